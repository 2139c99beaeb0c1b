export { serveFile, type FileOptions, type FileCompressOptions, type FileContext } from './respond'
export { resolveInRoot, nameSegments, type ResolveOptions, type ResolvedFile } from './resolve'
export { parseRange, type ByteRange, type RangeRequest } from './range'
export {
	validatorsOf,
	evaluatePreconditions,
	ifRangeHolds,
	strongMatch,
	weakMatch,
	type EtagMode,
	type Validators,
	type Precondition
} from './validators'
export { contentDisposition } from './disposition'
export { ZeroCopyTransfer, WATCH_INTERVAL_MS, type RequestWatcher } from './transfer'
export { streamFile, type BodyPart, type StreamFileOptions } from './streamed'
export { saveUpload, type UploadOptions, type UploadResult } from './upload'
export { cleanUploads } from './upload-temp'
