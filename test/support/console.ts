/** Every form action of the console (worker/http/console/pages/*.tsx), for the tests that no session may use them. */
export const CONSOLE_ACTIONS = [
  "models/rollback",
  "models/promote",
  "models/kill-switch",
  "content/review",
  "content/blocklist",
  "privacy/revocations",
  "sign-out",
] as const;
