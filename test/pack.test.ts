import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from './support/example'

// The published package, as a user gets it: `bun pm pack`, then `bun add` the tarball into a
// fresh Elysia project, start a server with .use(streaming()) and read one event.
const root = resolve(import.meta.dir, '..')
const work = mkdtempSync(join(tmpdir(), 'sluice-pack-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const run = async (cmd: string[], cwd: string) => {
	const proc = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'pipe' })
	const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
	if (code !== 0) throw new Error(`${cmd.join(' ')} failed (${code}): ${out}\n${err}`)
	return out
}

test('the packed tarball installs into a fresh Elysia project and streams', async () => {
	await run(['bun', 'pm', 'pack', '--destination', work, '--quiet'], root)
	const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
	expect(tarball).toBeDefined()
	const app = join(work, 'app')
	await run(['mkdir', '-p', app], work)
	writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }))
	const elysiaVersion = (await Bun.file(join(root, 'node_modules/elysia/package.json')).json()).version
	await run(['bun', 'add', `elysia@${elysiaVersion}`, join(work, tarball!)], app)
	writeFileSync(
		join(app, 'server.ts'),
		`import { Elysia } from 'elysia'
import { streaming } from 'sluice'
new Elysia().use(streaming())
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
	} finally {
		server.kill()
		await server.exited
	}
}, 120_000)
