import { workflowsConformance } from "./suite.js";

workflowsConformance("SQLite", () =>
  Promise.resolve({ env: { CAIRN_DATABASE_URL: "" }, close: () => Promise.resolve() }),
);
