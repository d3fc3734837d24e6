// The public entry point: `import { halo } from "halo"`. Filled in by the frame issue.
export {};
