//! The networks a dream runs through: [`kind::ModelKind`] names them, [`network::Network`] over [`efficientnet`] and
//! [`googlenet`], the layers they share ([`layers`]), `torch.save` [`weights`], the ImageNet
//! classes ([`imagenet`], [`classify`]), the [`device`] and the [`precision`].
pub mod classify;
pub mod device;
pub mod efficientnet;
pub mod googlenet;
pub mod imagenet;
pub mod kind;
pub mod layers;
pub mod network;
pub mod precision;
pub mod weights;
