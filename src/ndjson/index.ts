export { encodeNdjson, NdjsonEncodeError } from './encode'
export { isErrorLine, type NdjsonErrorLine } from './error-line'
export { splitLines, LineTooLongError } from './lines'
export {
	readNdjson,
	readNdjsonRequest,
	ndjsonContentTypes,
	NdjsonBodyError,
	type NdjsonBodyOptions,
	type NdjsonRequestOptions,
	type RecordOf
} from './body'
export {
	ndjsonStream,
	errorLineFor,
	NDJSON_CONTENT_TYPE,
	type NdjsonHandle,
	type NdjsonCallback,
	type NdjsonOptions,
	type NdjsonContext
} from './respond'
