//! The Docker Engine API: containers, volumes and helper containers, the health wait, service
//! status.

pub mod api;
pub mod bind_sources;
pub mod endpoint;
pub mod health_report;
pub mod health_wait;
pub mod port_check;
pub mod project_list;
pub mod service_status;
pub mod ssh;
pub mod urls;
