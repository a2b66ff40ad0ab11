"""Network parts shared by the stages: conv blocks, ResNet and U-Net bodies, the multi-scale patch
discriminator, GAN losses and the perceptual loss."""
