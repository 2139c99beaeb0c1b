import { afterAll, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { connect } from 'sluice/client'
import { startExample, type ExampleProcess } from '../support/example'

const running: ExampleProcess[] = []
afterAll(async () => {
	for (const p of running) await p.stop()
})

test('examples/typed-client.ts: the server streams typed events, its client mode reads them with Eden and connect()', async () => {
	const server = await startExample('typed-client')
	running.push(server)
	expect(server.output()).toContain('curl -N http://localhost:')

	const client = Bun.spawn(['bun', 'run', resolve(import.meta.dir, '../../examples/typed-client.ts'), 'client', server.url], {
		stdout: 'pipe',
		stderr: 'pipe'
	})
	const timer = setTimeout(() => client.kill(), 10_000)
	const [out, err, code] = await Promise.all([new Response(client.stdout).text(), new Response(client.stderr).text(), client.exited])
	clearTimeout(timer)
	expect(err).toBe('')
	expect(code).toBe(0)
	for (const who of ['eden', 'connect']) {
		const lines = out.split('\n').filter((l) => l.startsWith(who + ' '))
		expect(lines.length).toBe(5)
		expect(lines[0]).toMatch(/status +"starting"$/)
		expect(lines[1]).toMatch(/tick +n=1 at=\d{4}-\d\d-\d\dT/)
		expect(lines[3]).toMatch(/tick +n=3 /)
		// A string that looks like a number arrives as that string.
		expect(lines[4]).toMatch(/note +"007"$/)
	}

	// Resuming after Last-Event-ID 41 starts at tick 42.
	for await (const m of connect(`${server.url}/typed-events`, { lastEventId: '41' })) {
		if (m.event !== 'tick') continue
		expect(JSON.parse(m.data).n).toBe(42)
		break
	}
})
