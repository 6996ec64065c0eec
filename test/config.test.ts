import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

describe('configuration', () => {
  it('gives the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      port: 4000,
      role: 'all',
      maxFileSizeMb: 1000,
      maxFileSizeBytes: 1000 * 1024 * 1024,
      processingTimeoutSeconds: 3600,
      webhookAllowPrivateUrls: false,
      jobRetentionHours: 168,
    });
    expect(config.dataDir.endsWith('/data')).toBe(true);
  });

  it('rejects a bad value with a message naming the variable and the value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrowError(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrowError(/PORT="eighty": must be a number/);
    expect(() => loadConfig({ ROLE: 'boss' })).toThrowError(/ROLE="boss": must be all, api or worker/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'maybe' })).toThrowError(/WEBHOOK_ALLOW_PRIVATE_URLS="maybe"/);
    expect(() => loadConfig({ MAX_FILE_SIZE_MB: '0' })).toThrowError(/MAX_FILE_SIZE_MB="0": must be at least 1/);
    // The queue keeps a job at most a day: a longer limit would fail every submitJob, not the start.
    expect(() => loadConfig({ PROCESSING_TIMEOUT_SECONDS: '86400' })).toThrowError(/PROCESSING_TIMEOUT_SECONDS="86400": must be at most 86370/);
    expect(loadConfig({ PROCESSING_TIMEOUT_SECONDS: '86370' }).processingTimeoutSeconds).toBe(86370);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrowError(/DATABASE_URL=.*postgres/);
    // A host and port without a scheme parses as a URL (scheme "minio:"): refused here, not at the first request.
    expect(() => loadConfig({ S3_ENDPOINT: 'minio:9000' })).toThrowError(
      /S3_ENDPOINT="minio:9000": must be an http:\/\/ or https:\/\/ URL, e.g. http:\/\/127.0.0.1:9000/,
    );
    expect(() => loadConfig({ PUBLIC_URL: 'vidq.example.com:4000' })).toThrowError(
      /PUBLIC_URL="vidq.example.com:4000": must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => loadConfig({ ADMIN_ALERT_WEBHOOK_URL: 'ftp://alerts' })).toThrowError(
      /ADMIN_ALERT_WEBHOOK_URL="ftp:\/\/alerts": must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(loadConfig({ S3_ENDPOINT: 'https://s3.example.com', STORAGE_DRIVER: 's3', S3_BUCKET: 'b' }).s3.endpoint).toBe('https://s3.example.com');
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: '-1', PROCESSING_TIMEOUT_SECONDS: 'soon' });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });

  it('stops `vidq serve` before it starts anything, naming the variable', () => {
    const result = spawnSync(process.execPath, ['bin/vidq.js', 'serve'], {
      env: { ...process.env, PROCESSING_TIMEOUT_SECONDS: 'forever', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PROCESSING_TIMEOUT_SECONDS="forever"');
  });
});
