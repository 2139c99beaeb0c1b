// Runs every benchmark in bench/ (files named *.bench.ts), one after another,
// each in its own process so one's memory does not weigh on the next.
// `bun run bench storm soak --minutes 2`: names pick benchmarks; flags (--x v) go to each.
import { Glob } from 'bun'

/** Run only when named: the soak takes 10 minutes by default. */
const onDemand = ['soak.bench.ts']

const names: string[] = []
const flags: string[] = []
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
	const arg = args[i]!
	if (!arg.startsWith('--')) names.push(arg)
	else {
		flags.push(arg)
		if (!arg.includes('=') && i + 1 < args.length && !args[i + 1]!.startsWith('--')) flags.push(args[++i]!)
	}
}
const files = [...new Glob('*.bench.ts').scanSync({ cwd: import.meta.dir })]
	.sort()
	.filter((f) => (names.length === 0 ? !onDemand.includes(f) : names.some((o) => f.includes(o))))
let failed = 0
for (const file of files) {
	console.log(`\n## ${file}`)
	const proc = Bun.spawn(['bun', 'run', `${import.meta.dir}/${file}`, ...flags], { stdout: 'inherit', stderr: 'inherit' })
	if ((await proc.exited) !== 0) failed++
}
process.exit(failed ? 1 : 0)
