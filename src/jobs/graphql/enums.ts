// The jobs domain's GraphQL enums, shared by its types, inputs and event details.
import { builder } from '../../graphql/builder';
import { JOB_EVENT_TYPES } from '../events';

export const ProcessingModelEnum = builder.enumType('ProcessingModel', {
  values: {
    FAST: { description: 'At most 480p, fast preset: previews and drafts.' },
    ORIGINAL: { description: 'Source resolution, balanced preset.' },
    PRO: { description: 'Source resolution, slower preset, higher quality.' },
  },
});

export const OutputFormatEnum = builder.enumType('OutputFormat', {
  values: {
    MP4: { description: 'H.264/AAC. Cannot carry transparency.' },
    WEBM: { description: 'VP9/Opus. Keeps an alpha channel when the background is removed.' },
  },
});

export const StageStatusEnum = builder.enumType('StageStatus', { values: ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED'] as const });

export const JobEventTypeEnum = builder.enumType('JobEventType', { values: JOB_EVENT_TYPES });
