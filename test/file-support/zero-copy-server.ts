// A file() server for the zero-copy test, run under strace: serves FILE_ROOT.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'

const app = new Elysia()
	.use(streaming({ file: { root: process.env.FILE_ROOT! } }))
	.get('/files/:name', ({ file, params }) => file(params.name))
	.listen({ port: Number(process.env.PORT), hostname: '127.0.0.1' })
console.log(`pid ${process.pid} listening on http://127.0.0.1:${app.server!.port}`)
process.on('SIGTERM', async () => {
	await app.stop(true)
	process.exit(0)
})
