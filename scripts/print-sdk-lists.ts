// Writes the SDK's generated vocabularies (see scripts/sdk-lists.ts).
import { writeFileSync } from "node:fs";
import { renderSdkList, SDK_LISTS } from "./sdk-lists";

for (const list of SDK_LISTS) {
  writeFileSync(new URL(`../${list.file}`, import.meta.url), renderSdkList(list));
  console.log(`wrote ${list.file}`);
}
