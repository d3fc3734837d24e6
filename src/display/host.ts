// Where displays go. `src/` knows nothing about Jupyter: the kernel installs a host that turns
// these calls into display_data / update_display_data messages; in a plain Node script the
// default host writes progress to stderr and ignores rich displays.

/** A Jupyter-style mime bundle: mime type -> data (string, or a JSON object for JSON types). */
export type MimeBundle = Record<string, unknown>;

export interface DisplayHost {
  /** True when rich output reaches a notebook (the kernel); false in a terminal. */
  readonly rich: boolean;
  /** Show a bundle. With `id`, later calls with `update: true` replace it in place. */
  display(bundle: MimeBundle, options?: { id?: string; update?: boolean }): void;
}

/** Objects that know how to show themselves implement this (the kernel's `display` honours it). */
export const DISPLAY_SYMBOL = Symbol.for("Jupyter.display");

const terminalHost: DisplayHost = {
  rich: false,
  display(bundle) {
    const text = bundle["text/plain"];
    if (typeof text === "string") process.stderr.write(`${text}\n`);
  },
};

let current: DisplayHost = terminalHost;

export function setDisplayHost(host: DisplayHost | undefined): void {
  current = host ?? terminalHost;
}

export function getDisplayHost(): DisplayHost {
  return current;
}
