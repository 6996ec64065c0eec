// `pipelines`: what this deployment can run (built-in and PIPELINES_FILE's), with each stage's options schema.
import { builder } from '../../graphql/builder';
import type { Pipeline, StageRegistry } from '../registry/index';

interface StageShape {
  name: string;
  registry: StageRegistry;
}

const PipelineStageRef = builder.objectRef<StageShape>('PipelineStage').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.string({ resolve: (s) => s.registry.stage(s.name)?.stage.description ?? '' }),
    builtIn: t.boolean({ description: 'False for an external stage of PIPELINES_FILE.', resolve: (s) => s.registry.stage(s.name)?.builtIn ?? false }),
    optionsSchema: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The JSON Schema its submitJob stageOptions must match; null when it takes none.',
      resolve: (s) => s.registry.stage(s.name)?.optionsSchema ?? null,
    }),
  }),
});

const PipelineRef = builder.objectRef<Pipeline & { registry: StageRegistry }>('Pipeline').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    stages: t.field({
      type: [PipelineStageRef],
      description: 'In the order they run.',
      resolve: (p) => p.stages.map((name) => ({ name, registry: p.registry })),
    }),
  }),
});

builder.queryField('pipelines', (t) =>
  t.field({
    type: [PipelineRef],
    description: 'The pipelines this deployment runs: submitJob(input: { pipeline }) takes their names.',
    resolve: (_root, _args, ctx) => ctx.services.stages.pipelines.map((p) => ({ ...p, registry: ctx.services.stages })),
  }),
);
