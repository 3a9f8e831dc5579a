//! The wgpu skeleton renderer. It draws a [`Scene`] into its own offscreen target (4x MSAA
//! with a depth buffer, resolved to RGBA8), then either blits that image into egui's render
//! pass (the viewport, through [`ViewportCallback`]) or reads it back (PNG/GIF export, golden
//! image tests). One path for all three, so the exported picture is the one on screen.

use std::num::NonZeroU64;

use wgpu::util::DeviceExt as _;

use super::scene::{CameraUniform, Instance, OrbitCamera, Scene};

/// Colour format of the offscreen image (values are display-ready 0..1, no sRGB conversion).
pub const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const SAMPLES: u32 = 4;

/// The skeleton shader source (validated by the naga test in `tests/shaders.rs`).
pub const SKELETON_WGSL: &str = include_str!("../../../shaders/skeleton.wgsl");
/// The blit shader source.
pub const BLIT_WGSL: &str = include_str!("../../../shaders/blit.wgsl");

/// Why rendering could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No wgpu adapter or device.
    #[error("no wgpu device: {0}")]
    NoDevice(String),
    /// Reading the image back failed.
    #[error("reading the rendered image back failed: {0}")]
    Readback(String),
}

struct Target {
    size: [u32; 2],
    msaa: wgpu::TextureView,
    resolve: wgpu::Texture,
    resolve_view: wgpu::TextureView,
    depth: wgpu::TextureView,
    blit_bind: Option<wgpu::BindGroup>,
}

/// GPU state of the skeleton renderer: pipelines, buffers and the offscreen target.
pub struct SkeletonRenderer {
    pipeline: wgpu::RenderPipeline,
    camera_buf: wgpu::Buffer,
    camera_bind: wgpu::BindGroup,
    instances: wgpu::Buffer,
    capacity: usize,
    count: u32,
    target: Option<Target>,
    blit: Option<(wgpu::RenderPipeline, wgpu::BindGroupLayout, wgpu::Sampler)>,
}

impl SkeletonRenderer {
    /// Creates the pipelines. `output_format` is egui's surface format when the image is to be
    /// blitted into egui's pass (`None` for offscreen-only use).
    #[must_use]
    pub fn new(device: &wgpu::Device, output_format: Option<wgpu::TextureFormat>) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("skeleton.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SKELETON_WGSL.into()),
        });
        let cam_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("skeleton camera"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: NonZeroU64::new(size_of::<CameraUniform>() as u64),
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("skeleton"),
            bind_group_layouts: &[Some(&cam_layout)],
            immediate_size: 0,
        });
        let attrs = wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("skeleton"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: size_of::<Instance>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &attrs,
                })],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::LessEqual),
                stencil: wgpu::StencilState::default(),
                bias: wgpu::DepthBiasState::default(),
            }),
            multisample: wgpu::MultisampleState {
                count: SAMPLES,
                ..Default::default()
            },
            fragment: Some(wgpu::FragmentState {
                module: &shader,
                entry_point: Some("fs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                targets: &[Some(COLOR_FORMAT.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
        let camera_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("skeleton camera"),
            contents: bytemuck::bytes_of(&OrbitCamera::default().uniform(1.0)),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let camera_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("skeleton camera"),
            layout: &cam_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: camera_buf.as_entire_binding(),
            }],
        });
        let capacity = 1024;
        let instances = Self::instance_buffer(device, capacity);
        let blit = output_format.map(|f| Self::blit_pipeline(device, f));
        Self {
            pipeline,
            camera_buf,
            camera_bind,
            instances,
            capacity,
            count: 0,
            target: None,
            blit,
        }
    }

    fn instance_buffer(device: &wgpu::Device, capacity: usize) -> wgpu::Buffer {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("skeleton instances"),
            size: (capacity * size_of::<Instance>()) as u64,
            usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn blit_pipeline(
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
    ) -> (wgpu::RenderPipeline, wgpu::BindGroupLayout, wgpu::Sampler) {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("blit.wgsl"),
            source: wgpu::ShaderSource::Wgsl(BLIT_WGSL.into()),
        });
        let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("blit"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("blit"),
            bind_group_layouts: &[Some(&bgl)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("blit"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &shader,
                entry_point: Some("fs_main"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                targets: &[Some(format.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("blit"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        (pipeline, bgl, sampler)
    }

    fn ensure_target(&mut self, device: &wgpu::Device, size: [u32; 2]) {
        let size = [size[0].clamp(1, 8192), size[1].clamp(1, 8192)];
        if self.target.as_ref().is_some_and(|t| t.size == size) {
            return;
        }
        let extent = wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        };
        let tex = |label, format, samples, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: extent,
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let att = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let msaa = tex("skeleton msaa", COLOR_FORMAT, SAMPLES, att);
        let resolve = tex(
            "skeleton image",
            COLOR_FORMAT,
            1,
            att | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
        );
        let depth = tex("skeleton depth", DEPTH_FORMAT, SAMPLES, att);
        let resolve_view = resolve.create_view(&wgpu::TextureViewDescriptor::default());
        let blit_bind = self.blit.as_ref().map(|(_, bgl, sampler)| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("blit"),
                layout: bgl,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&resolve_view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Sampler(sampler),
                    },
                ],
            })
        });
        self.target = Some(Target {
            size,
            msaa: msaa.create_view(&wgpu::TextureViewDescriptor::default()),
            resolve,
            resolve_view,
            depth: depth.create_view(&wgpu::TextureViewDescriptor::default()),
            blit_bind,
        });
    }

    /// Uploads the scene and records its render pass into `encoder` (image of `size` pixels).
    pub fn render(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
        scene: &Scene,
        camera: &OrbitCamera,
        size: [u32; 2],
    ) {
        self.ensure_target(device, size);
        let aspect = size[0] as f32 / size[1].max(1) as f32;
        queue.write_buffer(
            &self.camera_buf,
            0,
            bytemuck::bytes_of(&camera.uniform(aspect)),
        );
        if scene.instances.len() > self.capacity {
            self.capacity = scene.instances.len().next_power_of_two();
            self.instances = Self::instance_buffer(device, self.capacity);
        }
        if !scene.instances.is_empty() {
            queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&scene.instances));
        }
        self.count = scene.instances.len() as u32;
        let Some(t) = &self.target else { return };
        let c = scene.clear;
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("skeleton"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &t.msaa,
                depth_slice: None,
                resolve_target: Some(&t.resolve_view),
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color {
                        r: f64::from(c[0]),
                        g: f64::from(c[1]),
                        b: f64::from(c[2]),
                        a: f64::from(c[3]),
                    }),
                    store: wgpu::StoreOp::Discard,
                },
            })],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &t.depth,
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Discard,
                }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        if self.count > 0 {
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.camera_bind, &[]);
            pass.set_vertex_buffer(0, self.instances.slice(..));
            pass.draw(0..6, 0..self.count);
        }
    }

    /// Draws the last rendered image into an egui render pass (viewport already set by egui).
    pub fn blit(&self, pass: &mut wgpu::RenderPass<'static>) {
        if let (
            Some((pipeline, _, _)),
            Some(Target {
                blit_bind: Some(bind),
                ..
            }),
        ) = (&self.blit, &self.target)
        {
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind, &[]);
            pass.draw(0..3, 0..1);
        }
    }

    /// Renders `scene` and reads the image back as RGBA8 (blocking).
    ///
    /// # Errors
    /// The GPU readback failed.
    pub fn render_image(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        scene: &Scene,
        camera: &OrbitCamera,
        size: [u32; 2],
    ) -> Result<image::RgbaImage, RenderError> {
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("skeleton capture"),
        });
        self.render(device, queue, &mut enc, scene, camera, size);
        let Some(t) = &self.target else {
            return Err(RenderError::Readback("no target".into()));
        };
        let [w, h] = t.size;
        // Rows of a buffer copy must be multiples of 256 bytes.
        let row = (w * 4).div_ceil(256) * 256;
        let buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("skeleton readback"),
            size: u64::from(row) * u64::from(h),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        enc.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &t.resolve,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &buf,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        queue.submit([enc.finish()]);
        let slice = buf.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let data = slice
            .get_mapped_range()
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let mut pixels = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h as usize {
            let start = y * row as usize;
            pixels.extend_from_slice(&data[start..start + (w * 4) as usize]);
        }
        drop(data);
        buf.unmap();
        image::RgbaImage::from_raw(w, h, pixels)
            .ok_or_else(|| RenderError::Readback("image size mismatch".into()))
    }
}

/// The adapter wgpu offers without a window (a real GPU first), with "name (backend)".
fn request_adapter() -> Result<(wgpu::Adapter, String), RenderError> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .map_err(|e| RenderError::NoDevice(e.to_string()))?;
    let info = adapter.get_info();
    Ok((adapter, format!("{} ({:?})", info.name, info.backend)))
}

/// The wgpu adapter the studio would render with, if any ("name (backend)").
#[must_use]
pub fn adapter_available() -> Option<String> {
    request_adapter().ok().map(|(_, name)| name)
}

/// A wgpu device of its own (no window), for exports and tests. Prefers a real GPU and falls
/// back to any adapter (Mesa lavapipe on a machine without one).
///
/// # Errors
/// No adapter or device.
pub fn headless_device() -> Result<(wgpu::Device, wgpu::Queue, String), RenderError> {
    let (adapter, name) = request_adapter()?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("pathogait offscreen"),
        ..Default::default()
    }))
    .map_err(|e| RenderError::NoDevice(e.to_string()))?;
    Ok((device, queue, name))
}

/// The egui paint callback of the viewport: renders the scene in `prepare` (egui's encoder)
/// and blits it in `paint`. The renderer lives in egui-wgpu's callback resources.
pub struct ViewportCallback {
    /// What to draw.
    pub scene: Scene,
    /// From where.
    pub camera: OrbitCamera,
    /// Viewport size in physical pixels.
    pub size: [u32; 2],
}

impl egui_wgpu::CallbackTrait for ViewportCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(r) = resources.get_mut::<SkeletonRenderer>() {
            r.render(device, queue, encoder, &self.scene, &self.camera, self.size);
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(r) = resources.get::<SkeletonRenderer>() {
            r.blit(pass);
        }
    }
}
