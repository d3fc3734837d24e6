// Cancellation from whoever runs user code into long operations (`collect()`), without `src/`
// knowing about Jupyter. The kernel installs a provider returning the running cell's AbortSignal;
// `collect()` uses `options.signal ?? currentSignal()`, so an interrupt stops it promptly.

let provider: () => AbortSignal | undefined = () => undefined;

export function setSignalProvider(fn: (() => AbortSignal | undefined) | undefined): void {
  provider = fn ?? (() => undefined);
}

export function currentSignal(): AbortSignal | undefined {
  return provider();
}
