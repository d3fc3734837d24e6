#!/usr/bin/env node
// The `halo` command. Sources are TypeScript run through tsx's loader, so a fresh clone needs no
// build step; tsx caches its transforms, which keeps later starts fast.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
