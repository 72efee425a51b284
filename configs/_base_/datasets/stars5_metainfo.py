# Keypoint description of the generated 5-joint figures (mmcenternet.utils.synthetic.keypoints
# STAR5), in mmpose's dataset_info format: the joint count, flip pairs (`swap`) and skeleton of a
# custom keypoint set come from here, as for mmpose's own datasets.
dataset_info = dict(
    dataset_name='stars5',
    paper_info=dict(author='', title='generated 5-joint figures', container='', year='',
                    homepage=''),
    keypoint_info={
        0: dict(name='head', id=0, color=[255, 0, 0], type='upper', swap=''),
        1: dict(name='left_hand', id=1, color=[0, 255, 0], type='upper', swap='right_hand'),
        2: dict(name='right_hand', id=2, color=[0, 255, 0], type='upper', swap='left_hand'),
        3: dict(name='left_foot', id=3, color=[0, 0, 255], type='lower', swap='right_foot'),
        4: dict(name='right_foot', id=4, color=[0, 0, 255], type='lower', swap='left_foot'),
    },
    skeleton_info={
        0: dict(link=('head', 'left_hand'), id=0, color=[0, 255, 0]),
        1: dict(link=('head', 'right_hand'), id=1, color=[0, 255, 0]),
        2: dict(link=('head', 'left_foot'), id=2, color=[0, 0, 255]),
        3: dict(link=('head', 'right_foot'), id=3, color=[0, 0, 255]),
    },
    joint_weights=[1.0, 1.0, 1.0, 1.0, 1.0],
    # COCO's values of the nearest COCO joints (nose, wrists, ankles)
    sigmas=[0.026, 0.062, 0.062, 0.089, 0.089])
