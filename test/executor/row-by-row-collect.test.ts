// collect()'s semantics tests (test/frame/collect.test.ts) once more on the row-by-row reference
// executor, which every collect of that file then names: the reference the Processor is compared
// against must itself stay tested.
process.env.HALO_TEST_EXECUTOR = "row-by-row";
await import("../frame/collect.test.ts");
