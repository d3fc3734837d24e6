// Debian's chromium for the browser tests, through playwright-core: one launch configuration
// (headless, no sandbox as root, nothing reaching out to the network), and running a whole
// notebook through the classic notebook's UI the way a user does (Cell > Run All).
import type { Browser, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * Clicks Cell > Run All and waits until every one of the `cells` prompts carries its number
 * ("In [*]" while queued or running) and the kernel is idle again: a DOM state, never a sleep.
 */
export async function runAllCells(tab: Page, cells: number, timeoutMs: number): Promise<void> {
  await tab.click("#celllink");
  await tab.click("#run_all_cells > a");
  // A string predicate: it runs in the page, and this project compiles without the DOM lib.
  await tab.waitForFunction(
    `(() => {
      const prompts = [...document.querySelectorAll(".code_cell .input_prompt")];
      return prompts.length === ${cells} &&
        prompts.every((p) => /\\[\\d+\\]/.test(p.textContent || "")) &&
        document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
    })()`,
    undefined,
    { timeout: timeoutMs, polling: 200 },
  );
}

/** Texts of error and stderr outputs on the page (a warning shows as a red box too). */
export function errorOutputs(tab: Page): Promise<string[]> {
  return tab.$$eval(".output_error, .output_stderr", (els) => els.map((e) => e.textContent ?? ""));
}
