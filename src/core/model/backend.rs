//! Choosing the compute device once per process: which wgpu adapters this machine has (asked
//! through the native graphics APIs only, so a headless machine prints nothing), whether burn
//! runs on the chosen one, and the CPU backend otherwise.

use std::sync::{Mutex, OnceLock};

use burn::tensor::{Device, DeviceKind, Tensor};

use super::{BackendChoice, ModelError};

/// One wgpu adapter as the graphics API reports it.
#[derive(Debug, Clone)]
struct Adapter {
    kind: wgpu::DeviceType,
    name: String,
    driver: String,
}

/// The adapters of this machine, enumerated once. OpenGL is asked only where a display is
/// set: its EGL probe connects to Wayland, which prints `XDG_RUNTIME_DIR is invalid` on
/// every headless call, and Vulkan (Mesa lavapipe included) covers Linux without one.
fn adapters() -> &'static [Adapter] {
    static ADAPTERS: OnceLock<Vec<Adapter>> = OnceLock::new();
    ADAPTERS.get_or_init(|| {
        let mut backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
        if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
            backends |= wgpu::Backends::GL;
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        pollster::block_on(instance.enumerate_adapters(backends))
            .iter()
            .map(|a| {
                let i = a.get_info();
                Adapter {
                    kind: i.device_type,
                    name: i.name,
                    driver: i.driver_info,
                }
            })
            .collect()
    })
}

/// Whether the machine has GPU hardware at all. On Linux a GPU shows as a render node
/// (`/dev/dri/renderD*`) or an NVIDIA device; without either, `Auto` goes straight to the
/// CPU without starting a graphics API: creating a Vulkan instance loads Mesa's device-select
/// layer, which prints `XDG_RUNTIME_DIR is invalid` on headless machines. Elsewhere: assumed.
fn gpu_hardware_present() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    render_node || std::path::Path::new("/dev/nvidia0").exists()
}

thread_local! {
    /// Set while this thread probes a device: its panic messages are expected and reported by
    /// the caller instead.
    static PROBING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the process's panic hook once so that panics of a thread marked [`PROBING`] stay
/// silent; every other thread's panics go to the hook that was there before, unchanged.
fn quiet_probe_panics() {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !PROBING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Tries a tiny computation on a device, with panics contained (a device that cannot start
/// panics inside the backend). Runs at most once per device kind and process: the answer is
/// kept. The panic hook is wrapped once, never swapped, so other threads' panics still print.
fn probe(kind: DeviceKind) -> Option<Device> {
    static PROBED: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());
    let key = format!("{kind:?}");
    let mut probed = PROBED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, ok)) = probed.iter().find(|(k, _)| *k == key) {
        return ok.then(|| Device::wgpu(kind));
    }
    let device = Device::wgpu(kind);
    // Keep the backend's panic message off the terminal: the caller reports the outcome.
    quiet_probe_panics();
    PROBING.with(|p| p.set(true));
    let d = device.clone();
    let ok = std::panic::catch_unwind(move || {
        let t = Tensor::<1>::ones([4], &d).sum();
        t.into_data()
            .try_to_vec_as::<f32>()
            .is_ok_and(|v| v.first().copied() == Some(4.0))
    })
    .unwrap_or(false);
    PROBING.with(|p| p.set(false));
    probed.push((key, ok));
    ok.then_some(device)
}

/// The CPU backend's description: Flex, on how many threads.
fn cpu_description() -> String {
    format!("CPU (Flex, {} threads)", crate::core::jobs::cores())
}

/// Picks the device for `choice` and says which it is (printed by the CLI, shown in the studio).
/// `PATHOGAIT_BACKEND=cpu|wgpu` overrides `Auto`. `Auto` takes a GPU through wgpu when one
/// answers, else the CPU backend; `Wgpu` also takes a software adapter (Mesa lavapipe), which
/// is how machines without a GPU exercise the wgpu path.
///
/// # Errors
/// [`BackendChoice::Wgpu`] when wgpu has no adapter that runs.
pub fn select_device(choice: BackendChoice) -> Result<(Device, String), ModelError> {
    let choice = match (choice, std::env::var("PATHOGAIT_BACKEND").ok().as_deref()) {
        (BackendChoice::Auto, Some("cpu")) => BackendChoice::Cpu,
        (BackendChoice::Auto, Some("wgpu")) => BackendChoice::Wgpu,
        (c, _) => c,
    };
    if choice == BackendChoice::Cpu {
        return Ok((Device::flex(), cpu_description()));
    }
    if choice == BackendChoice::Auto && !gpu_hardware_present() {
        return Ok((
            Device::flex(),
            format!("{}: no GPU found", cpu_description()),
        ));
    }
    let found = adapters();
    let mut kinds: Vec<(DeviceKind, wgpu::DeviceType, &str)> = vec![
        (
            DeviceKind::DiscreteGpu(0),
            wgpu::DeviceType::DiscreteGpu,
            "discrete GPU",
        ),
        (
            DeviceKind::IntegratedGpu(0),
            wgpu::DeviceType::IntegratedGpu,
            "integrated GPU",
        ),
        (
            DeviceKind::VirtualGpu(0),
            wgpu::DeviceType::VirtualGpu,
            "virtual GPU",
        ),
    ];
    if choice == BackendChoice::Wgpu {
        kinds.push((DeviceKind::Cpu, wgpu::DeviceType::Cpu, "software adapter"));
    }
    for (kind, ty, what) in kinds {
        let Some(a) = found.iter().find(|a| a.kind == ty) else {
            continue;
        };
        if let Some(d) = probe(kind) {
            let driver = if a.driver.is_empty() {
                String::new()
            } else {
                format!(", {}", a.driver)
            };
            return Ok((d, format!("wgpu ({what}: {}{driver})", a.name)));
        }
    }
    if choice == BackendChoice::Wgpu {
        let seen: Vec<String> = found
            .iter()
            .map(|a| format!("{} ({:?})", a.name, a.kind))
            .collect();
        return Err(ModelError::Backend(if seen.is_empty() {
            "wgpu found no adapter (no GPU driver, and no Mesa lavapipe: install mesa-vulkan-drivers)"
                .into()
        } else {
            format!(
                "no wgpu adapter ran a test computation (found: {})",
                seen.join(", ")
            )
        }));
    }
    Ok((
        Device::flex(),
        format!("{}: no GPU adapter found", cpu_description()),
    ))
}
