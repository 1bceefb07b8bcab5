import { lexicographicSortSchema } from "graphql";
import { builder } from "../builder";
import "./scalars";
import "./role";
import "./user";
import "./workspace";
import "./membership";
import "./audit";
import "./audit-chain";
import "./apikey";
import "./verify";
import "./platform-key";
import "./audience";
import "./service";
import "./keypair";
import "./deployment";
import "./leak";
import "./webhook";

/** The schema as Pothos builds it, before permissions are applied. */
export const schema = lexicographicSortSchema(builder.toSchema());
