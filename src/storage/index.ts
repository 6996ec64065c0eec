// The storage a process uses, chosen by STORAGE_DRIVER. The s3 driver (and the AWS SDK) is loaded only
// when it is used.
import type { Config } from '../config';
import { LocalStorage } from './local';
import type { Storage } from './types';

export async function createStorage(config: Pick<Config, 'storageDriver' | 'dataDir' | 's3'>): Promise<Storage> {
  if (config.storageDriver !== 's3') return new LocalStorage(config.dataDir);
  const { S3Storage } = await import('./s3');
  return new S3Storage(config.s3);
}

export { type Storage, StorageConfigError, StorageUnavailableError, type StoredObject } from './types';
