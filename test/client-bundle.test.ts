import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Type as t } from '@sinclair/typebox'
import { connect, events } from 'sluice/client'
import { events as checkingEvents } from 'sluice/client/validate'

// What a browser downloads: `sluice/client` bundled for the browser and minified, as an app
// would. A typed reader decodes by the registry's schemas; TypeBox's compiler (checking is the
// server's) must stay out of it.
const root = resolve(import.meta.dir, '..')
// Inside the project, so that 'sluice/client' resolves as it does for an app.
const dir = mkdtempSync(join(root, 'test', '.bundle-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function bundledSize(name: string, source: string): Promise<{ size: number; text: string }> {
	const entry = join(dir, `${name}.ts`)
	writeFileSync(entry, source)
	const result = await Bun.build({ entrypoints: [entry], target: 'browser', minify: true })
	expect(result.success).toBe(true)
	const text = await result.outputs[0]!.text()
	return { size: new TextEncoder().encode(text).byteLength, text }
}

test('connect() alone stays under 12 KB minified', async () => {
	const { size } = await bundledSize(
		'connect-alone',
		`import { connect } from 'sluice/client'
export const read = (url: string) => connect(url)
`
	)
	expect(size).toBeLessThan(12_000)
})

test('connect() with an events() registry stays under 55 KB minified, without the schema compiler', async () => {
	const { size, text } = await bundledSize(
		'connect-typed',
		`import { Type as t } from '@sinclair/typebox'
import { connect, events } from 'sluice/client'
const feed = events({ tick: t.Object({ n: t.Number() }), note: t.String() })
export const read = (url: string) => connect(url, { events: feed })
`
	)
	expect(size).toBeLessThan(55_000)
	// A message only TypeBox's compiler has (it is in the bundle of a client that validates).
	expect(text).not.toContain('Preflight validation check failed')
})

test("validate: true needs a registry that checks: sluice/client's is refused at once, sluice/client/validate's is taken", () => {
	const schemas = { tick: t.Object({ n: t.Number() }) }
	expect(() => connect('http://127.0.0.1:1/', { events: events(schemas), validate: true })).toThrow(
		"make it with events() from 'sluice/client/validate'"
	)
	const client = connect('http://127.0.0.1:1/', { events: checkingEvents(schemas), validate: true })
	client.close()
})
