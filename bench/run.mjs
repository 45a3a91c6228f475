// npm run bench [-- <name>...]: runs bench/<name>/index.mjs for each name, or every benchmark.
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL(".", import.meta.url).pathname;
const all = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, "index.mjs")))
  .map((entry) => entry.name)
  .sort();
const names = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no benchmark "${name}"; there are: ${all.join(", ")}`);
    process.exit(2);
  }
}
for (const name of names.length > 0 ? names : all) {
  console.log(`\n### bench/${name}`);
  const { run } = await import(join(root, name, "index.mjs"));
  await run();
}
