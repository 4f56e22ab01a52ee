/** Every form action of the console (worker/http/console/pages/*.tsx), for the tests that no session may use them. */
export const CONSOLE_ACTIONS = [
  "models/rollback",
  "models/promote",
  "models/retire",
  "models/kill-switch",
  "content/review",
  "content/blocklist",
  "privacy/revocations",
  "sites/create",
  "sites/update",
  "sites/archive",
  "sites/slots",
  "sites/slots/archive",
  "sites/import",
  "sites/import/apply",
  "sign-out",
] as const;
