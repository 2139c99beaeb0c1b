import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from './support/example'

// The published package, as a user gets it: `bun pm pack`, then `bun add` the tarball into a
// fresh Elysia project, start a server with .use(streaming()) and read one event; then import
// every name docs/api.md lists, from every entry point, and find no other.
const root = resolve(import.meta.dir, '..')
const work = mkdtempSync(join(tmpdir(), 'sluice-pack-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const run = async (cmd: string[], cwd: string) => {
	const proc = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'pipe' })
	const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
	if (code !== 0) throw new Error(`${cmd.join(' ')} failed (${code}): ${out}\n${err}`)
	return out
}

const app = join(work, 'app')
let installed: Promise<void> | undefined
/** Packs the package and installs it into a fresh app, once for the file. */
const install = () =>
	(installed ??= (async () => {
		await run(['bun', 'pm', 'pack', '--destination', work, '--quiet'], root)
		const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
		if (!tarball) throw new Error('bun pm pack made no tarball')
		await run(['mkdir', '-p', app], work)
		writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }))
		const elysiaVersion = (await Bun.file(join(root, 'node_modules/elysia/package.json')).json()).version
		await run(['bun', 'add', `elysia@${elysiaVersion}`, join(work, tarball)], app)
	})())

/** The import statements of docs/api.md: entry point -> the value names and the type names it lists. */
function documentedApi(): Map<string, { values: string[]; types: string[] }> {
	const text = readFileSync(join(root, 'docs/api.md'), 'utf8')
	const api = new Map<string, { values: string[]; types: string[] }>()
	for (const [, type, names, from] of text.matchAll(/import (type )?\{([^}]*)\} from '([^']+)'/g)) {
		const entry = api.get(from!) ?? { values: [], types: [] }
		const list = names!
			.replace(/\/\/.*$/gm, '')
			.split(',')
			.map((n) => n.trim())
			.filter(Boolean)
		entry[type ? 'types' : 'values'].push(...list)
		api.set(from!, entry)
	}
	return api
}

test('the packed tarball installs into a fresh Elysia project, streams, and bundles the dashboard', async () => {
	await install()
	writeFileSync(
		join(app, 'server.ts'),
		`import { Elysia } from 'elysia'
import { streaming } from 'sluice'
new Elysia().use(streaming({ connections: { routes: { guard: () => true, dashboard: '/_sluice' } } }))
  .get('/events', ({ sse }) => sse([{ event: 'hello', data: { from: 'tarball' } }]))
  .listen({ port: Number(process.env.PORT), hostname: '127.0.0.1' })
console.log('ready')
`
	)
	const port = freePort()
	const server = Bun.spawn(['bun', 'run', 'server.ts'], { cwd: app, env: { ...process.env, PORT: String(port) }, stdout: 'pipe', stderr: 'inherit' })
	try {
		const reader = server.stdout.getReader()
		const { value } = await reader.read()
		expect(new TextDecoder().decode(value)).toContain('ready')
		const text = await (await fetch(`http://127.0.0.1:${port}/events`)).text()
		expect(text).toContain('event: hello\ndata: {"from":"tarball"}\n\n')
		// The dashboard's script is bundled from the installed package's own source, as it ships.
		const script = await fetch(`http://127.0.0.1:${port}/_sluice/app.js`)
		expect(script.status).toBe(200)
		expect(await script.text()).toContain('text/event-stream')
	} finally {
		server.kill()
		await server.exited
	}
}, 120_000)

test('every entry point exports exactly the names docs/api.md lists, and they type-check in a fresh app', async () => {
	await install()
	const api = documentedApi()
	expect([...api.keys()].sort()).toEqual(['sluice', 'sluice/client', 'sluice/client/validate', 'sluice/redis'])
	for (const [from, { values }] of api) {
		const out = await run(['bun', '-e', `console.log(JSON.stringify(Object.keys(await import('${from}')).sort()))`], app)
		// An internal that leaks (or a documented name that is gone) fails here, by name.
		expect({ from, names: JSON.parse(out) }).toEqual({ from, names: [...values].sort() })
	}
	// Every documented name, types included, through the installed package, checked by tsc.
	// One module per entry point: the same name (events) comes from several.
	const files = [...api].map(([from, { values, types }], i) => {
		const file = `api-${i}.ts`
		const lines = [`import { ${values.join(', ')} } from '${from}'`]
		if (types.length) lines.push(`import type { ${types.join(', ')} } from '${from}'`)
		writeFileSync(join(app, file), lines.join('\n') + '\n')
		return file
	})
	const options = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).compilerOptions
	delete options.paths
	writeFileSync(
		join(app, 'tsconfig.json'),
		JSON.stringify({ compilerOptions: { ...options, typeRoots: [join(root, 'node_modules/@types')] }, files })
	)
	await run([join(root, 'node_modules/.bin/tsc'), '-p', 'tsconfig.json'], app)
}, 120_000)
