import { OptionError } from '../src/errors'
import { serveFile, type FileOptions } from '../src/file'
import type { StreamIdentity } from '../src/connections'
import { helpersPlugin, streamContext, type HelperContext } from './stream-context'

/** Options of the file plugin: defaults for every file() call (`root` most of all). */
export interface FilePluginOptions extends Partial<FileOptions> {}

/** file() on the handler context. */
export type FileFunction = (name: string, options?: Partial<FileOptions> & StreamIdentity) => Promise<Response>

/**
 * Adds `file()` to the handler context: a file from a root folder, with
 * ranges, conditional requests and downloads, sent by Bun's sendfile, and
 * registered in the connection manager while it is sent.
 *
 * @example
 * app.use(filePlugin({ root: './uploads' }))
 *   .get('/download/:filename', ({ file, params }) => file(params.filename, { download: true }))
 */
export const filePlugin = (defaults: FilePluginOptions = {}) => {
	const file = fileFor(defaults)
	return helpersPlugin('sluice/file', defaults, {
		file: (context) => ((name, options) => file(context, name, options)) as FileFunction
	})
}

/** Answers a request's file() call (used by filePlugin and streaming()). */
export const fileFor =
	(defaults: FilePluginOptions) =>
	(context: HelperContext, ...[name, options = {}]: Parameters<FileFunction>): ReturnType<FileFunction> => {
		const { user, expiresAt, ...fileOptions } = options
		const merged = { ...defaults, ...fileOptions }
		if (!merged.root) throw new OptionError('file(): a root folder is required ({ root })')
		return serveFile(streamContext(context, context.registry, 'file', [], { user, expiresAt }), name, merged as FileOptions)
	}
