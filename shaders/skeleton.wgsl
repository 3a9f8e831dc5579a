// Skeleton renderer: every bone, joint, grid line and foot-contact marker is one instance of a
// camera-facing capsule impostor. A capsule is the set of points within `radius` of the
// segment a-b; a joint is a capsule with a == b (a sphere), a grid line a thin flat capsule.
// Drawing them all as instances of one 6-vertex quad keeps hundreds of skeletons in one call.

struct Camera {
    view_proj: mat4x4<f32>,
    // World-space eye position (w unused).
    eye: vec4<f32>,
    // Camera right and up axes in world space, for sphere billboards (w unused).
    right: vec4<f32>,
    up: vec4<f32>,
};

@group(0) @binding(0) var<uniform> cam: Camera;

struct Instance {
    // xyz = segment start, w = radius (metres).
    @location(0) a: vec4<f32>,
    // xyz = segment end, w = 1 for lit (shaded like a tube), 0 for flat colour.
    @location(1) b: vec4<f32>,
    // Linear RGBA.
    @location(2) color: vec4<f32>,
};

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    // Position in the quad, in units of the radius: x across, y along the segment.
    @location(0) uv: vec2<f32>,
    @location(1) color: vec4<f32>,
    // Half the segment's core length in units of the radius (0 for spheres).
    @location(2) half_core: f32,
    @location(3) lit: f32,
};

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, inst: Instance) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
    );
    let c = corners[vi];
    let a = inst.a.xyz;
    let b = inst.b.xyz;
    let r = max(inst.a.w, 1e-5);
    let d = b - a;
    let len = length(d);
    let centre = 0.5 * (a + b);
    var axis = cam.up.xyz;
    var side = cam.right.xyz;
    if (len > 1e-6) {
        axis = d / len;
        // The quad's width direction is perpendicular to both the bone and the view ray, so
        // the impostor always faces the camera.
        let s = cross(axis, centre - cam.eye.xyz);
        if (length(s) > 1e-6) {
            side = normalize(s);
        }
    }
    let half_len = 0.5 * len + r;
    let world = centre + axis * (c.y * half_len) + side * (c.x * r);
    var out: VsOut;
    out.clip = cam.view_proj * vec4<f32>(world, 1.0);
    out.uv = vec2<f32>(c.x, c.y * half_len / r);
    out.color = inst.color;
    out.half_core = 0.5 * len / r;
    out.lit = inst.b.w;
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    // Distance from the segment's core, in radii: outside the capsule outline is discarded.
    let along = max(abs(in.uv.y) - in.half_core, 0.0);
    let d2 = in.uv.x * in.uv.x + along * along;
    if (d2 > 1.0) {
        discard;
    }
    // Fake a tube normal facing the viewer; light from the upper left.
    let nz = sqrt(1.0 - d2);
    let diffuse = clamp(0.55 * nz + 0.35 * (0.5 - 0.5 * in.uv.x) + 0.25, 0.0, 1.0);
    let shade = mix(1.0, diffuse, in.lit);
    return vec4<f32>(in.color.rgb * shade, in.color.a);
}
