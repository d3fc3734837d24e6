// Placeholder until issue 3, the kernel lands: says so plainly rather than pretending to work.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write("halo: 'kernel' is not implemented yet (issue 3, the kernel)\n");
  return 1;
}
