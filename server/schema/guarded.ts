import { applyMiddleware } from "graphql-middleware";
import { permissions } from "../auth/shield";
import { schema } from "./index";

/** The served schema: Pothos types behind the graphql-shield permission tree. */
export const guardedSchema = applyMiddleware(schema, permissions);
