// Why the bucket cannot be used, in one line naming the variable to fix: what the start says when the
// s3 driver's HeadBucket fails (S3Storage.check).
import type { Config } from '../config';
import { describeS3Error, statusOf } from './s3-errors';

/**
 * The bucket's region, as S3 names it in the `x-amz-bucket-region` header of every HeadBucket answer,
 * refusals included (a request signed for another region gets 301, or 400 in some regions).
 */
function bucketRegionOf(error: unknown): string | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string | undefined> } })?.$response?.headers;
  return headers?.['x-amz-bucket-region'] || undefined;
}

/** The AWS SDK found no credentials to sign with (none set, no AWS_* variables, profile or instance role). */
function isMissingCredentials(error: unknown): boolean {
  return (error as Error)?.name === 'CredentialsProviderError';
}

/** The host name that did not resolve (ENOTFOUND), or undefined for any other error. */
function unresolvedHost(error: unknown): string | undefined {
  const { code, hostname } = (error ?? {}) as NodeJS.ErrnoException & { hostname?: string };
  return code === 'ENOTFOUND' ? hostname : undefined;
}

/** Node's codes for a TLS certificate it would not accept, with what the operator can do about each. */
const CERTIFICATE_ADVICE: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed: start vidq with NODE_EXTRA_CA_CERTS=/path/to/that-certificate.pem',
  SELF_SIGNED_CERT_IN_CHAIN: 'it is signed by a CA Node does not know: start vidq with NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is signed by a CA Node does not know: start vidq with NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
  UNABLE_TO_GET_ISSUER_CERT: 'it is signed by a CA Node does not know: start vidq with NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is signed by a CA Node does not know: start vidq with NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
  CERT_HAS_EXPIRED: 'it has expired: renew it on the server',
  CERT_NOT_YET_VALID: 'it is not valid yet: check the clocks of both machines',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it was issued for another name: use the host name it was issued for in S3_ENDPOINT',
};

/**
 * What to do when the endpoint answered but TLS failed: a certificate Node refused, or an https URL for
 * a port that speaks plain http. Null for any other error.
 */
function tlsAdvice(error: unknown): string | null {
  const { code, message } = (error ?? {}) as NodeJS.ErrnoException;
  if (code && code in CERTIFICATE_ADVICE) return `its TLS certificate is not trusted (${code}): ${CERTIFICATE_ADVICE[code]}`;
  if (code === 'EPROTO' && /wrong version number/.test(message ?? '')) {
    return 'it does not speak TLS on that port (EPROTO): use http:// in S3_ENDPOINT, or the port where the server serves https';
  }
  return null;
}

/** The line the start stops with when HeadBucket on the configured bucket failed with `error`. */
export function whyBucketUnusable(error: unknown, settings: Config['s3']): string {
  const { bucket, endpoint, region } = settings;
  const status = statusOf(error);
  const where = endpoint ?? `AWS (${region})`;
  const name = JSON.stringify(bucket);
  if (status) {
    const actualRegion = bucketRegionOf(error);
    if (actualRegion && actualRegion !== region) {
      return `S3_REGION=${JSON.stringify(region)}: bucket ${name} is in ${actualRegion} (${where} answered ${status}). Set S3_REGION=${actualRegion}.`;
    }
    if (status === 404) return `S3_BUCKET=${name}: no such bucket at ${where}. Create it, or fix S3_BUCKET.`;
    if (status === 403 || status === 401) return `S3_ACCESS_KEY_ID: the credentials may not use bucket ${name} at ${where} (${status}).`;
    return `S3_BUCKET=${name}: ${where} answered ${status} to HeadBucket.`;
  }
  if (isMissingCredentials(error)) {
    return `S3_ACCESS_KEY_ID="": no credentials to sign with for bucket ${name}: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or the AWS SDK's own (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role).`;
  }
  const host = unresolvedHost(error);
  if (!settings.forcePathStyle && host?.startsWith(`${bucket}.`)) {
    return `S3_FORCE_PATH_STYLE=false: the bucket goes into the host name, and ${host} does not resolve. Set S3_FORCE_PATH_STYLE=true (MinIO and most S3-compatible servers want it), or give the server a wildcard DNS name.`;
  }
  const tls = tlsAdvice(error);
  if (tls) return `S3_ENDPOINT=${JSON.stringify(endpoint ?? '')}: ${where} answers, but ${tls}.`;
  return `S3_ENDPOINT=${JSON.stringify(endpoint ?? '')}: ${where} cannot be reached (${describeS3Error(error)}). Check the URL and that the server runs.`;
}
