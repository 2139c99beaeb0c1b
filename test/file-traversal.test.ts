// A traversal corpus over real HTTP: raw request lines (so no client
// normalises the path), through a route parameter, a wildcard and a query
// string, against a root with symlinks leading out, a sibling folder sharing
// the root's prefix, and dotfiles. Nothing outside the root may come back.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import net from 'node:net'
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streaming } from '../plugins'
import { listen, type TestServer } from './support/server'

const SECRET = 'TOP-SECRET-7f3a'
const SECRETS = [SECRET, 'root:x:0:', 'DOTFILE-9c1e', '[fonts]']
let base: string
let server: TestServer

const CORPUS = [
	'../secret.txt',
	'../../../../../../etc/passwd',
	'..%2fsecret.txt',
	'..%2f..%2f..%2f..%2fetc%2fpasswd',
	'%2e%2e/secret.txt',
	'%2e%2e%2fsecret.txt',
	'.%2e/secret.txt',
	'%2e./secret.txt',
	'%252e%252e%252fsecret.txt',
	'..%252fsecret.txt',
	'%252e%252e/secret.txt',
	'..\\secret.txt',
	'..%5csecret.txt',
	'%2e%2e%5csecret.txt',
	'..%255csecret.txt',
	'/etc/passwd',
	'%2fetc%2fpasswd',
	'//etc/passwd',
	'file:///etc/passwd',
	'C:%5cWindows%5cwin.ini',
	'%5c%5cserver%5cshare%5csecret.txt',
	'link-out',
	'dir-out/secret.txt',
	'dir-out%2fsecret.txt',
	'link-to-dotenv',
	'.env',
	'%2eenv',
	'sub/.hidden',
	'sub%2f.hidden',
	'sub/../../secret.txt',
	'sub/..%2f..%2fsecret.txt',
	'./../secret.txt',
	'public.txt/../../secret.txt',
	'public.txt%00../../secret.txt',
	'..%00/secret.txt',
	'%00',
	'%c0%ae%c0%ae/secret.txt',
	'..%c0%afsecret.txt',
	'..%ef%bc%8fsecret.txt',
	'%e2%80%a5/secret.txt',
	'....//secret.txt',
	'..../secret.txt',
	'../root-sibling/secret.txt',
	'..%2froot-sibling%2fsecret.txt',
	'../root/../secret.txt',
	'..;/secret.txt',
	'%2e%2e;/secret.txt',
	'..%0d%0asecret.txt',
	'..%u2216secret.txt',
	'sub/../../../etc/passwd',
	'%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd'
]

beforeAll(async () => {
	base = await mkdtemp(join(tmpdir(), 'sluice-traversal-'))
	const root = join(base, 'root')
	await mkdir(join(root, 'sub'), { recursive: true })
	await mkdir(join(base, 'root-sibling'))
	await writeFile(join(base, 'secret.txt'), SECRET)
	await writeFile(join(base, 'root-sibling', 'secret.txt'), SECRET)
	await writeFile(join(root, 'public.txt'), 'public')
	await writeFile(join(root, 'sub', 'inner.txt'), 'inner')
	await writeFile(join(root, '.env'), 'DOTFILE-9c1e')
	await writeFile(join(root, 'sub', '.hidden'), 'DOTFILE-9c1e')
	await symlink(join(base, 'secret.txt'), join(root, 'link-out'))
	await symlink(join(base, 'root-sibling'), join(root, 'dir-out'))
	await symlink(join(root, '.env'), join(root, 'link-to-dotenv'))
	await symlink(join(root, 'public.txt'), join(root, 'link-in'))
	const app = new Elysia()
		.use(streaming({ file: { root } }))
		.get('/download/:filename', ({ file, params }) => file(params.filename, { download: true }))
		.get('/files/*', ({ file, params }) => file(params['*']))
		.get('/q', ({ file, query }) => file(query.name ?? ''))
	server = listen(app)
})
afterAll(async () => {
	await server.stop()
	await rm(base, { recursive: true, force: true })
})

/** Sends `target` as the request line's path, byte for byte, and reads until the server closes. */
function rawGet(target: string): Promise<{ status: number; text: string }> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(server.port, '127.0.0.1')
		const chunks: Buffer[] = []
		const timer = setTimeout(() => {
			socket.destroy()
			reject(new Error(`no complete answer for ${target}`))
		}, 3000)
		socket.on('data', (d: Buffer) => chunks.push(d))
		socket.on('error', () => {})
		socket.on('close', () => {
			clearTimeout(timer)
			const text = Buffer.concat(chunks).toString('latin1')
			resolve({ status: Number(text.split(' ')[1] ?? 0), text })
		})
		socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1')
	})
}

test(`the corpus has at least 40 names`, () => {
	expect(CORPUS.length).toBeGreaterThanOrEqual(40)
})

test('the routes do serve files inside the root (the corpus is not refused for a dull reason)', async () => {
	for (const target of ['/download/public.txt', '/files/sub/inner.txt', '/q?name=sub%2Finner.txt', '/files/link-in', '/download/link-in']) {
		const res = await rawGet(target)
		expect([target, res.status]).toEqual([target, 200])
	}
})

test('no traversal name reaches a file outside the root, or a dotfile', async () => {
	let requests = 0
	for (const name of CORPUS) {
		const targets = [
			`/download/${name}`,
			`/files/${name}`,
			// the query route hands file() the name exactly as written, and once decoded
			`/q?name=${encodeURIComponent(name)}`,
			`/q?name=${name.replaceAll('&', '%26').replaceAll('#', '%23')}`
		]
		for (const target of targets) {
			const res = await rawGet(target)
			requests++
			for (const secret of SECRETS) expect([target, res.text.includes(secret)]).toEqual([target, false])
			expect([target, res.status === 200]).toEqual([target, false])
		}
		// what file() itself answers, for the exact name: a 404 that does not say why
		const exact = await rawGet(`/q?name=${encodeURIComponent(name)}`)
		expect([name, exact.status]).toEqual([name, 404])
		expect(exact.text.endsWith('{"error":"File not found"}')).toBe(true)
	}
	expect(requests).toBe(CORPUS.length * 4)
})
