export {
  type ClientOptions,
  createClient,
  type GraphQLErrorBody,
  type KeywardClient,
  KeywardError,
  type RequestOptions,
} from "./client";
export * from "./generated/graphql";
