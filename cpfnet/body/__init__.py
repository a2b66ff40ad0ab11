"""Body conventions shared by every part: keypoints, parsing labels, pose maps, drawings."""
