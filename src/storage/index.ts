// The storage a process uses, chosen by STORAGE_DRIVER.
import type { Config } from '../config';
import { LocalStorage } from './local';
import { S3Storage } from './s3';
import type { Storage } from './types';

export function createStorage(config: Pick<Config, 'storageDriver' | 'dataDir' | 's3'>): Storage {
  return config.storageDriver === 's3' ? new S3Storage(config.s3) : new LocalStorage(config.dataDir);
}

export { StorageConfigError } from './s3';
export { type Storage, StorageUnavailableError, type StoredObject } from './types';
