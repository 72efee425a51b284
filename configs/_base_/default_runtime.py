# Runtime shared by every mmcenternet detection config.
default_scope = 'mmdet'
# Registers mmcenternet's modules in mmdet's and mmpose's registries.
custom_imports = dict(imports=['mmcenternet'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # The original keeps model_last every epoch and a copy at each lr step.
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

# Writes <work_dir>/curves.png (losses, validation AP) after each validation and at the end.
custom_hooks = [dict(type='CenterNetCurvesHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
# Draws boxes as predicted (CenterNet never orders or clips them).
visualizer = dict(
    type='CenterNetDetVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
