// Writes the SDK's webhook event list from server/webhooks/events.ts (see scripts/webhook-events.ts).
import { writeFileSync } from "node:fs";
import { renderWebhookEvents, WEBHOOK_EVENTS_FILE } from "./webhook-events";

writeFileSync(new URL(`../${WEBHOOK_EVENTS_FILE}`, import.meta.url), renderWebhookEvents());
console.log(`wrote ${WEBHOOK_EVENTS_FILE}`);
