import { Elysia } from 'elysia'
import { serveFile, type FileOptions } from '../src/file'
import { ConnectionRegistry } from '../src/connections'
import { rememberApp } from './app-errors'
import { streamContext } from './stream-context'

/** Options of the file plugin: defaults for every file() call (`root` most of all). */
export interface FilePluginOptions extends Partial<FileOptions> {}

/** file() on the handler context. */
export type FileFunction = (name: string, options?: Partial<FileOptions>) => Promise<Response>

/**
 * Adds `file()` to the handler context: a file from a root folder, with
 * ranges, conditional requests and downloads, sent by Bun's sendfile, and
 * registered in the connection manager while it is sent.
 *
 * @example
 * app.use(filePlugin({ root: './uploads' }))
 *   .get('/download/:filename', ({ file, params }) => file(params.filename, { download: true }))
 */
export const filePlugin = (
	defaults: FilePluginOptions = {},
	registry: ConnectionRegistry = new ConnectionRegistry()
) =>
	new Elysia({ name: 'sluice/file', seed: defaults })
		.onStart(rememberApp)
		.derive({ as: 'global' }, ({ request, server, route, set, path }) => {
			// Named fields, not the whole context: Elysia infers what each route parses from
			// what hooks touch, and a global hook that takes all would parse every body.
			const context = { request, server, route, set, path }
			return {
				file: ((name, options) => {
					const merged = { ...defaults, ...options }
					if (!merged.root) throw new TypeError('file(): a root folder is required ({ root })')
					return serveFile(streamContext(context, registry, 'file'), name, merged as FileOptions)
				}) as FileFunction
			}
		})
