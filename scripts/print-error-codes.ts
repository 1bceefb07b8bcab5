// Writes the SDK's error-code union from server/errors.ts (see scripts/error-codes.ts).
import { writeFileSync } from "node:fs";
import { ERROR_CODES_FILE, renderErrorCodes } from "./error-codes";

writeFileSync(new URL(`../${ERROR_CODES_FILE}`, import.meta.url), renderErrorCodes());
console.log(`wrote ${ERROR_CODES_FILE}`);
