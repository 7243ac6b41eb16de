/**
 * `tusk/dataset`: datasets — publish a directory of any size (small files in quilts, large files
 * as blobs, huge ones in chunk blobs) resumably through a journal, and read any file of it by path
 * (whole, SHA-256 checked, or a byte range across chunks); the manifest format; the gateway route.
 */
export { publishDataset, IN_MEMORY_MAX } from '../dataset/publish.ts';
export type { PublishDatasetOptions, PublishDatasetResult, DatasetProgress } from '../dataset/publish.ts';
export { PublishJournal, defaultJournalPath, JOURNAL_VERSION } from '../dataset/journal.ts';
export type { JournalState, JournalUnit } from '../dataset/journal.ts';
export {
  parseManifest,
  serializeManifest,
  findFile,
  storageKind,
  checkDatasetPath,
  compareUtf8Paths,
  ManifestError,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  MAX_MANIFEST_BYTES,
} from '../dataset/manifest.ts';
export type { DatasetManifest, ManifestFile, ManifestChunk } from '../dataset/manifest.ts';
export { loadManifest, DatasetReader, fetchDataset, DatasetIntegrityError } from '../dataset/read-dataset.ts';
export type { ReadDatasetOptions, FileRange, FetchDatasetOptions } from '../dataset/read-dataset.ts';
export { walkDataset, sha256File } from '../dataset/walk.ts';
export type { DatasetFileInfo } from '../dataset/walk.ts';
export { datasetRoutes } from '../dataset/gateway-routes.ts';
export type { DatasetRouteContext } from '../dataset/gateway-routes.ts';
