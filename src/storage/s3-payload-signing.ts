// Whether SigV4 signs each part's bytes. Signing a payload means hashing it (SHA-256) before it is
// sent: 1–2 CPU-seconds per GB in the process that sends it (BENCHMARKS.md, Uploads), on top of the
// upload's own hash. Over https, TLS already protects the bytes in transit, and S3 accepts
// `UNSIGNED-PAYLOAD` there (the AWS SDK sends streamed bodies that way). Over plain http (a MinIO on a
// LAN, say) the signature is the only thing that catches altered bytes, so it is kept.
import type { S3Client } from '@aws-sdk/client-s3';

/** The commands that carry a file's bytes. */
const WITH_PAYLOAD = new Set(['PutObjectCommand', 'UploadPartCommand']);

/** AWS itself (no endpoint) is always https. */
const sendsOverTls = (endpoint: string | undefined) => endpoint === undefined || endpoint.startsWith('https:');

export function skipPayloadSigningOverTls(client: S3Client, endpoint: string | undefined): void {
  if (!sendsOverTls(endpoint)) return;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      // The signer hashes the payload only when this header is not set already.
      if (WITH_PAYLOAD.has(context.commandName ?? '') && request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'vidqUnsignedPayloadOverTls' },
  );
}
