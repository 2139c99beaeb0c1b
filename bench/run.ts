// Runs every benchmark in bench/ (files named *.bench.ts), one after another,
// each in its own process so one's memory does not weigh on the next.
import { Glob } from 'bun'

const only = process.argv.slice(2)
const files = [...new Glob('*.bench.ts').scanSync({ cwd: import.meta.dir })]
	.sort()
	.filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
let failed = 0
for (const file of files) {
	console.log(`\n## ${file}`)
	const proc = Bun.spawn(['bun', 'run', `${import.meta.dir}/${file}`], { stdout: 'inherit', stderr: 'inherit' })
	if ((await proc.exited) !== 0) failed++
}
process.exit(failed ? 1 : 0)
