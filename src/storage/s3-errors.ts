// What an S3 error says, read the same way by the driver and the abort of multipart uploads.
import type { S3ServiceException } from '@aws-sdk/client-s3';

/** The HTTP status the server answered, or undefined when it did not answer (the network). */
export function statusOf(error: unknown): number | undefined {
  return (error as S3ServiceException)?.$metadata?.httpStatusCode;
}

/** The object or the multipart upload is not there (a 404, whatever name the server gives it). */
export function isNotFound(error: unknown): boolean {
  const name = (error as S3ServiceException)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload' || statusOf(error) === 404;
}

/**
 * The bucket's region, as S3 names it in the `x-amz-bucket-region` header of every HeadBucket answer,
 * refusals included (a request signed for another region gets 301, or 400 in some regions).
 */
export function bucketRegionOf(error: unknown): string | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string | undefined> } })?.$response?.headers;
  return headers?.['x-amz-bucket-region'] || undefined;
}

/** The AWS SDK found no credentials to sign with (none set, no AWS_* variables, profile or instance role). */
export function isMissingCredentials(error: unknown): boolean {
  return (error as Error)?.name === 'CredentialsProviderError';
}

/** The host name that did not resolve (ENOTFOUND), or undefined for any other error. */
export function unresolvedHost(error: unknown): string | undefined {
  const { code, hostname } = (error ?? {}) as NodeJS.ErrnoException & { hostname?: string };
  return code === 'ENOTFOUND' ? hostname : undefined;
}

/** One short phrase: `405 MethodNotAllowed` for an answer, the socket's code (`ECONNREFUSED`) without one. */
export function describeS3Error(error: unknown): string {
  const status = statusOf(error);
  if (status) return `${status} ${(error as S3ServiceException).name}`;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
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
export function tlsAdvice(error: unknown): string | null {
  const { code, message } = (error ?? {}) as NodeJS.ErrnoException;
  if (code && code in CERTIFICATE_ADVICE) return `its TLS certificate is not trusted (${code}): ${CERTIFICATE_ADVICE[code]}`;
  if (code === 'EPROTO' && /wrong version number/.test(message ?? '')) {
    return 'it does not speak TLS on that port (EPROTO): use http:// in S3_ENDPOINT, or the port where the server serves https';
  }
  return null;
}
