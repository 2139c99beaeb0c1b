import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

// The docs cannot rot: every ```ts block of README.md, CONTRIBUTING.md and docs/*.md is
// type-checked by tsc against the sources ('sluice' and its subpaths map to them through the
// project's tsconfig paths). A block marked ```ts continued is checked with the page's block
// before it (e.g. a client reading the server above); one marked ```ts fragment (deliberately
// partial) is skipped.
const root = resolve(import.meta.dir, '..')
const dir = mkdtempSync(join(root, 'test', '.docs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const pages = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

interface Block {
	page: string
	/** Line of the page that line 1 of `file` stands for (for the lines from `after` on). */
	line: number
	file: string
	after: number
}

function extract(): { blocks: Block[]; fragments: number } {
	const blocks: Block[] = []
	let fragments = 0
	for (const page of pages) {
		const lines = readFileSync(join(root, page), 'utf8').split('\n')
		for (let i = 0; i < lines.length; i++) {
			const open = /^(\s*)```(\w+)?(.*)$/.exec(lines[i]!)
			if (!open) continue
			const [, indent, lang, info] = open
			let end = i + 1
			while (end < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[end]!)) end++
			const code = lines.slice(i + 1, end).map((l) => l.slice(indent!.length))
			const kind = info!.trim()
			const previous = blocks.at(-1)
			if ((lang === 'ts' || lang === 'typescript') && kind === 'fragment') fragments++
			else if ((lang === 'ts' || lang === 'typescript') && kind === 'continued' && previous?.page === page) {
				// Its lines follow the previous block's in one module; errors map back by offset.
				const text = readFileSync(join(dir, previous.file), 'utf8')
				const offset = text.split('\n').length - 1
				writeFileSync(join(dir, previous.file), text + code.join('\n') + '\n')
				blocks.push({ page, line: i + 2 - offset, file: previous.file, after: offset })
			} else if (lang === 'ts' || lang === 'typescript') {
				const file = `${page.replace(/[/.]/g, '_')}_${i + 2}.ts`
				// `export {}` makes each block a module of its own.
				writeFileSync(join(dir, file), 'export {}\n' + code.join('\n') + '\n')
				blocks.push({ page, line: i + 1, file, after: 0 })
			}
			i = end
		}
	}
	return { blocks, fragments }
}

test('every ts code block in the docs type-checks', async () => {
	const { blocks, fragments } = extract()
	expect(blocks.length).toBeGreaterThan(10)
	// Partial blocks are allowed, but rare.
	expect(fragments).toBeLessThanOrEqual(Math.ceil(blocks.length / 4))
	writeFileSync(
		join(dir, 'tsconfig.json'),
		JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noUnusedLocals: false }, include: ['*.ts'] })
	)
	const proc = Bun.spawn([join(root, 'node_modules/.bin/tsc'), '-p', join(dir, 'tsconfig.json')], {
		cwd: root,
		stdout: 'pipe',
		stderr: 'pipe'
	})
	const out = await new Response(proc.stdout).text()
	await proc.exited
	// Each error, told as the page and line it comes from.
	const errors = out
		.split('\n')
		.filter((l) => /\.ts\(\d+,\d+\): error/.test(l))
		.map((l) => {
			const [, file, line, message] = /([^/\\\\]+\.ts)\((\d+),\d+\): (.*)$/.exec(l) ?? []
			const at = Number(line)
			const block = blocks.findLast((b) => b.file === file && b.after < at)
			return block ? `${block.page}:${block.line + at - 1}: ${message}` : relative(root, l)
		})
	expect(errors).toEqual([])
}, 120_000)
