// Placeholder until issue 9, benchmarks lands: says so plainly rather than pretending to work.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write("halo: 'bench' is not implemented yet (issue 9, benchmarks)\n");
  return 1;
}
