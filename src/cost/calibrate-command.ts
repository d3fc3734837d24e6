// Placeholder until issue 6, the cost model lands: says so plainly rather than pretending to work.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write("halo: 'calibrate' is not implemented yet (issue 6, the cost model)\n");
  return 1;
}
