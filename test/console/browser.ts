import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { BrowserContext } from "playwright-core";

/** Debian's Chromium, or another one named by CAIRN_TEST_CHROMIUM. */
export const chromiumPath = process.env.CAIRN_TEST_CHROMIUM ?? "/usr/bin/chromium";
export const chromiumAvailable = existsSync(chromiumPath);

if (!chromiumAvailable) {
  const line = `Chromium is not at ${chromiumPath}: the console's browser suite is skipped. Install it (apt-get install chromium) or set CAIRN_TEST_CHROMIUM to a Chromium binary.`;
  // CI (.ci/run) installs it and must run the suite.
  if (process.env.CAIRN_TEST_REQUIRE_SCALEOUT === "1") throw new Error(line);
  console.warn(`note: ${line}`);
}

/** Where the suite keeps its screenshots (gitignored; CI keeps them as artefacts). */
export const screenshots = join(import.meta.dirname, "..", "..", "test-artifacts", "console");

/**
 * Headless Chromium with the flags this machine needs (no background network) on a fresh, empty
 * profile, with a laptop-sized window.
 */
export async function launchChromium(): Promise<BrowserContext> {
  mkdirSync(screenshots, { recursive: true });
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "cairn-chromium-")), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1366, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
