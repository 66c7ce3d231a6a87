//! Deterministic inventory generation (glp-api.md §4): device types and models in plausible
//! proportions, real serial/MAC formats, applications and regions from the service catalog,
//! tags of every shape, subscription links, archived devices, all four `assignedState`
//! values; subscriptions of every status with end dates relative to *today* so the 30/60/90-day
//! "expiring" views are always populated. Optional fields are sometimes null, sometimes missing.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration as CDuration, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::catalog::Catalog;
use super::store::Collection;

/// Fixed anchor for generated device timestamps, so data is stable for a seed.
pub(crate) fn anchor() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default() // 2026-01-01T00:00:00Z
}

/// RFC 3339 with milliseconds and `Z`, as GLP sends.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

struct Kind {
    device_type: &'static str,
    category: &'static str,
    weight: u32,
    models: &'static [(&'static str, &'static str)],
    prefixes: &'static [&'static str],
    sub_type: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        device_type: "AP",
        category: "NETWORK",
        weight: 400,
        models: &[
            ("AP-635-US", "R7J28A"),
            ("AP-505-US", "R2H28A"),
            ("AP-515-US", "Q9H62A"),
            ("AP-535-US", "JZ336A"),
            ("AP-655-US", "S0G13A"),
            ("AP-315-US", "JW797A"),
            ("AP-505H-US", "R3V46A"),
        ],
        prefixes: &["CN", "VNT", "PHT", "TW"],
        sub_type: "CENTRAL_AP",
    },
    Kind {
        device_type: "SWITCH",
        category: "NETWORK",
        weight: 180,
        models: &[
            ("6200F-24G-4SFP+", "JL724A"),
            ("6300M-48G-4SFP56", "JL663A"),
            ("6100-24G-4SFP+", "JL677A"),
            ("2930F-48G-4SFP+", "JL254A"),
            ("8325-48Y8C", "JL624A"),
            ("CX 6405", "R0X26A"),
        ],
        prefixes: &["SG", "TW", "CN"],
        sub_type: "CENTRAL_SWITCH",
    },
    Kind {
        device_type: "GATEWAY",
        category: "NETWORK",
        weight: 50,
        models: &[
            ("9004-US", "R1B20A"),
            ("9240-US", "R8V69A"),
            ("7005-US", "JW633A"),
            ("EC-V", "EC-V-BASE"),
        ],
        prefixes: &["CN", "CK"],
        sub_type: "CENTRAL_GW",
    },
    Kind {
        device_type: "CONTROLLER",
        category: "NETWORK",
        weight: 20,
        models: &[("7210-US", "JW743A"), ("7240XM-US", "JW830A")],
        prefixes: &["CN", "CV"],
        sub_type: "CENTRAL_CONTROLLER",
    },
    Kind {
        device_type: "IAP",
        category: "NETWORK",
        weight: 20,
        models: &[("IAP-225-US", "JW228A"), ("IAP-305-US", "JX936A")],
        prefixes: &["CN", "CM"],
        sub_type: "CENTRAL_AP",
    },
    Kind {
        device_type: "SENSOR",
        category: "NETWORK",
        weight: 20,
        models: &[("U6000", "R2P13A"), ("U6100", "S0C62A")],
        prefixes: &["UX"],
        sub_type: "UXI_SENSOR_CLOUD",
    },
    Kind {
        device_type: "SD_WAN_GW",
        category: "NETWORK",
        weight: 10,
        models: &[("EC-XS", "200899"), ("EC-S-P", "201291")],
        prefixes: &["00"],
        sub_type: "CENTRAL_GW",
    },
    Kind {
        device_type: "BLE",
        category: "NETWORK",
        weight: 5,
        models: &[("Aruba Beacon", "JW315A")],
        prefixes: &["BL"],
        sub_type: "CENTRAL_AP",
    },
    Kind {
        device_type: "LTE_MODEM",
        category: "NETWORK",
        weight: 5,
        models: &[("LTE-U1", "R7V05A")],
        prefixes: &["LT"],
        sub_type: "CENTRAL_GW",
    },
    Kind {
        device_type: "NW_THIRD_PARTY",
        category: "NETWORK",
        weight: 5,
        models: &[("Third-party switch", "TP-0001")],
        prefixes: &["TP"],
        sub_type: "CENTRAL_NW_THIRD_PARTY",
    },
    Kind {
        device_type: "BRIDGES",
        category: "NETWORK",
        weight: 3,
        models: &[("AP-387-US", "JZ155A")],
        prefixes: &["CN"],
        sub_type: "CENTRAL_AP",
    },
    Kind {
        device_type: "UNKNOWN",
        category: "NETWORK",
        weight: 2,
        models: &[("Unknown", "UNKNOWN")],
        prefixes: &["XX"],
        sub_type: "UNKNOWN",
    },
    Kind {
        device_type: "COMPUTE",
        category: "COMPUTE",
        weight: 170,
        models: &[
            ("ProLiant DL360 Gen11", "P52499-B21"),
            ("ProLiant DL380 Gen11", "P52534-B21"),
            ("ProLiant DL380 Gen10 Plus", "P05172-B21"),
            ("ProLiant DL325 Gen11", "P58691-B21"),
            ("ProLiant ML350 Gen11", "P53568-B21"),
            ("Synergy 480 Gen10", "871940-B21"),
        ],
        prefixes: &["CZ", "MXQ", "2M2", "SGH"],
        sub_type: "CENTRAL_COMPUTE",
    },
    Kind {
        device_type: "DHCI_COMPUTE",
        category: "COMPUTE",
        weight: 5,
        models: &[("ProLiant DL380 Gen10 dHCI", "Q8D81A")],
        prefixes: &["CZ"],
        sub_type: "CENTRAL_COMPUTE",
    },
    Kind {
        device_type: "STORAGE",
        category: "STORAGE",
        weight: 60,
        models: &[
            ("HPE Alletra Storage MP", "S1R40A"),
            ("Alletra 6010", "R7G83A"),
            ("Alletra 9060", "R4T16A"),
            ("Nimble HF20", "Q8H72A"),
            ("MSA 2060", "R0Q73A"),
        ],
        prefixes: &["CZ", "AF"],
        sub_type: "CENTRAL_STORAGE",
    },
    Kind {
        device_type: "DHCI_STORAGE",
        category: "STORAGE",
        weight: 5,
        models: &[("Nimble dHCI HF40", "Q8H73A")],
        prefixes: &["AF"],
        sub_type: "CENTRAL_STORAGE",
    },
];

const NETWORK_OUIS: &[&str] = &[
    "20:4C:03", "94:B4:0F", "F0:5C:19", "88:3A:30", "B8:D4:E7", "3C:E8:6E",
];
const COMPUTE_OUIS: &[&str] = &["94:40:C9", "1C:98:EC", "98:F2:B3"];

/// (name, city, state, country, postal code, street, latitude, longitude)
type Site = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
);

const SITES: &[Site] = &[
    (
        "Main Office",
        "New York",
        "NY",
        "USA",
        "10001",
        "123 Main St",
        40.7128,
        -74.006,
    ),
    (
        "London DC",
        "London",
        "",
        "United Kingdom",
        "EC1A 1BB",
        "1 Aldersgate St",
        51.5194,
        -0.0977,
    ),
    (
        "Zürich Campus",
        "Zürich",
        "ZH",
        "Switzerland",
        "8001",
        "Bahnhofstrasse 1",
        47.3769,
        8.5417,
    ),
    (
        "東京オフィス",
        "東京",
        "東京都",
        "Japan",
        "100-0005",
        "丸の内1-1",
        35.6812,
        139.7671,
    ),
    (
        "São Paulo Branch",
        "São Paulo",
        "SP",
        "Brazil",
        "01310-100",
        "Av. Paulista 1000",
        -23.5614,
        -46.6559,
    ),
    (
        "Austin Lab",
        "Austin",
        "TX",
        "USA",
        "78701",
        "500 Congress Ave",
        30.2672,
        -97.7431,
    ),
];

const TAG_KEYS: &[&str] = &[
    "site",
    "env",
    "owner",
    "rack",
    "floor",
    "building",
    "cost-center",
    "role",
    "project",
    "city",
];
const TAG_VALUES: &[&str] = &[
    "HQ",
    "prod",
    "lab",
    "netops",
    "Zürich",
    "東京オフィス",
    "São Paulo",
    "Café Ümlaut",
    "Δοκιμή",
    "R12",
    "2",
    "edge",
    "",
];

struct SubKind {
    sub_type: &'static str,
    weight: u32,
    product: &'static str,
    tiers: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const SUB_KINDS: &[SubKind] = &[
    SubKind {
        sub_type: "CENTRAL_AP",
        weight: 300,
        product: "DEVICE",
        tiers: &[
            (
                "FOUNDATION_AP",
                "Foundation AP",
                "Q9Y58AAE",
                "Aruba Central AP Foundation 1y Sub SaaS",
            ),
            (
                "ADVANCED_AP",
                "Advanced AP",
                "Q9Y59AAE",
                "Aruba Central AP Advanced 1y Sub SaaS",
            ),
        ],
    },
    SubKind {
        sub_type: "CENTRAL_SWITCH",
        weight: 200,
        product: "DEVICE",
        tiers: &[
            (
                "FOUNDATION_SWITCH_6200",
                "Foundation Switch 6200",
                "R3J16AAE",
                "Aruba Central 6200 Switch Foundation 5y Sub SaaS",
            ),
            (
                "ADVANCED_SWITCH_6300",
                "Advanced Switch 6300",
                "R3K02AAE",
                "Aruba Central 6300 Switch Advanced 5y Sub SaaS",
            ),
            (
                "FOUNDATION_SWITCH_6100",
                "Foundation Switch 6100",
                "R3J13AAE",
                "Aruba Central 6100 Switch Foundation 3y Sub SaaS",
            ),
        ],
    },
    SubKind {
        sub_type: "CENTRAL_GW",
        weight: 70,
        product: "DEVICE",
        tiers: &[
            (
                "FOUNDATION_70XX",
                "Foundation 70xx Gateway",
                "R4H26AAE",
                "Aruba Central 70xx Gateway Foundation 1y Sub SaaS",
            ),
            (
                "ADVANCE_90XX_SEC",
                "Advanced 90xx Gateway",
                "R4H33AAE",
                "Aruba Central 90xx Gateway Advanced 3y Sub SaaS",
            ),
        ],
    },
    SubKind {
        sub_type: "CENTRAL_CONTROLLER",
        weight: 20,
        product: "DEVICE",
        tiers: &[(
            "FOUNDATION_72XX",
            "Foundation 72xx Controller",
            "R6U87AAE",
            "Aruba Central 72xx Controller Foundation 1y Sub SaaS",
        )],
    },
    SubKind {
        sub_type: "CENTRAL_COMPUTE",
        weight: 150,
        product: "DEVICE",
        tiers: &[
            (
                "ENHANCED_PROLIANT",
                "Enhanced ProLiant",
                "R7A11AAE",
                "HPE Compute Ops Management Enhanced 3y Sub SaaS",
            ),
            (
                "STANDARD_PROLIANT",
                "Standard ProLiant",
                "R7A10AAE",
                "HPE Compute Ops Management Standard 1y Sub SaaS",
            ),
        ],
    },
    SubKind {
        sub_type: "CENTRAL_STORAGE",
        weight: 60,
        product: "DEVICE",
        tiers: &[(
            "FOUNDATION_STORAGE",
            "Foundation Storage",
            "S0V99AAE",
            "HPE Data Services Storage Foundation 1y Sub SaaS",
        )],
    },
    SubKind {
        sub_type: "UXI_SENSOR_CLOUD",
        weight: 30,
        product: "DEVICE",
        tiers: &[(
            "FOUNDATION_SENSOR_CLOUD",
            "UXI Sensor Cloud",
            "R8H13AAE",
            "HPE Aruba Networking UXI Sensor Cloud 1y Sub SaaS",
        )],
    },
    SubKind {
        sub_type: "CENTRAL_NW_THIRD_PARTY",
        weight: 10,
        product: "MANDATORY_ATTACHED",
        tiers: &[(
            "FOUNDATION_NW_THIRD_PARTY",
            "Third-party Switch",
            "S1E73AAE",
            "Aruba Central Third-party Switch 1y Sub SaaS",
        )],
    },
    SubKind {
        sub_type: "SERVICE",
        weight: 50,
        product: "SERVICE",
        tiers: &[(
            "SMALL_VM_BACKUP",
            "Small Back-Up & Recovery Service",
            "S2B31AAE",
            "HPE GreenLake Backup and Recovery Small 1y",
        )],
    },
    SubKind {
        sub_type: "SUPPORT",
        weight: 40,
        product: "SUPPORT",
        tiers: &[(
            "FOUNDATION_CARE_EMBEDDED",
            "Foundation Care 24x7",
            "H7J34AC",
            "HPE Foundation Care 24x7 Service",
        )],
    },
    SubKind {
        sub_type: "OPSRAMP",
        weight: 20,
        product: "SERVICE",
        tiers: &[(
            "CENTRAL_OPSRAMP_EXTENSION",
            "OpsRamp Base",
            "S3F11AAE",
            "HPE OpsRamp Base 1y Sub SaaS",
        )],
    },
    SubKind {
        sub_type: "PRIVATE_CLOUD_ENTERPRISE",
        weight: 10,
        product: "ON_PREM",
        tiers: &[(
            "PRIVATE_CLOUD_ENTERPRISE",
            "Private Cloud Enterprise",
            "S1P66AAE",
            "HPE GreenLake for Private Cloud Enterprise",
        )],
    },
    SubKind {
        sub_type: "UNKNOWN",
        weight: 5,
        product: "DEVICE",
        tiers: &[("UNKNOWN", "Unknown", "UNKNOWN", "Unknown")],
    },
];

const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";

fn pick_weighted<'a, T>(rng: &mut StdRng, items: &'a [T], w: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&w).sum();
    let mut r = rng.random_range(0..total.max(1));
    for it in items {
        let x = w(it);
        if r < x {
            return it;
        }
        r -= x;
    }
    &items[items.len() - 1]
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn alnum(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect()
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

/// Put `v` under `k`, or null, or leave the key out, in the given proportions.
fn optional(m: &mut Map<String, Value>, rng: &mut StdRng, k: &str, v: Option<Value>, null_p: f64) {
    match v {
        Some(v) => {
            m.insert(k.into(), v);
        }
        None => {
            if rng.random::<f64>() < null_p {
                m.insert(k.into(), Value::Null);
            }
        }
    }
}

/// The generated world and the generator state needed to add more devices later.
pub(crate) struct Data {
    pub devices: Collection,
    pub subscriptions: Collection,
    pub catalog: Catalog,
    serials: HashSet<String>,
    rng: StdRng,
    mac_counter: u64,
    workspace_id: String,
    placement: Placement,
}

/// Where a workspace's devices sit in an MSP world, which decides `management`,
/// `tenantWorkspaceId` and `inUseWorkspace` (the spec's "Consolidated MSP View" example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Placement {
    /// An ordinary workspace: the fields as generated.
    #[default]
    Own,
    /// The MSP's pool: `management: "MSP"`, no tenant, not in use by any workspace.
    MspPool,
    /// A tenant's device; `msp_owned` for a tenant with MSP-owned inventory.
    Tenant { msp_owned: bool },
}

/// Fields of a device added through POST.
#[derive(Debug, Clone)]
pub(crate) struct NewDevice {
    pub serial: String,
    pub category: String,
    pub mac: Option<String>,
    pub part_number: Option<String>,
    pub tags: Option<Value>,
    pub location_id: Option<String>,
}

impl Data {
    /// Generate `devices` devices and `subscriptions` subscriptions from `seed`.
    pub fn generate(seed: u64, devices: usize, subscriptions: usize, workspace_id: &str) -> Data {
        let mut rng = StdRng::seed_from_u64(seed);
        let catalog = Catalog::new();
        let today = Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .unwrap_or_else(Utc::now);
        let mut data = Data {
            devices: Collection::default(),
            subscriptions: Collection::default(),
            catalog,
            serials: HashSet::with_capacity(devices),
            rng: StdRng::seed_from_u64(seed ^ 0xADD_DE71CE),
            mac_counter: 0,
            workspace_id: workspace_id.to_string(),
            placement: Placement::Own,
        };
        // Subscriptions first: devices link to them and use up their quantity.
        let mut subs: Vec<Value> = Vec::with_capacity(subscriptions);
        let mut keys = HashSet::with_capacity(subscriptions);
        for _ in 0..subscriptions {
            subs.push(gen_subscription(&mut rng, today, &mut keys));
        }
        subs.sort_by(|a, b| {
            (a["createdAt"].as_str(), a["id"].as_str())
                .cmp(&(b["createdAt"].as_str(), b["id"].as_str()))
        });
        // Remaining quantity of STARTED device subscriptions, by type.
        let mut remaining: Vec<i64> = subs.iter().map(|s| qty(&s["quantity"])).collect();
        let mut open: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, s) in subs.iter().enumerate() {
            if s["subscriptionStatus"] == "STARTED"
                && let Some(t) = s["subscriptionType"].as_str()
                && let Some(k) = SUB_KINDS.iter().find(|k| k.sub_type == t)
            {
                open.entry(k.sub_type).or_default().push(i);
            }
        }
        // Devices, created in time order over the three years before the anchor.
        let span = 3 * 365 * 86_400_000i64;
        let mut created: Vec<i64> = (0..devices).map(|_| rng.random_range(0..span)).collect();
        created.sort_unstable();
        let start = anchor() - CDuration::milliseconds(span);
        let mut devs = Vec::with_capacity(devices);
        for c in created {
            let created_at = start + CDuration::milliseconds(c);
            let kind = pick_weighted(&mut rng, KINDS, |k| k.weight);
            let mut d = data.random_device(&mut rng, kind, created_at);
            if d["assignedState"] == "ASSIGNED_TO_SERVICE" && rng.random::<f64>() < 0.8 {
                let list = open.get_mut(kind.sub_type);
                if let Some(list) = list
                    && !list.is_empty()
                {
                    let j = rng.random_range(0..list.len().min(8));
                    let si = list[j];
                    remaining[si] -= 1;
                    if remaining[si] <= 0 {
                        list.swap_remove(j);
                    }
                    d["subscription"] = json!([sub_ref(&subs[si])]);
                }
            }
            devs.push(d);
        }
        for (s, rem) in subs.iter_mut().zip(remaining) {
            let as_string = s["quantity"].is_string();
            s["availableQuantity"] = if as_string {
                json!(rem.to_string())
            } else {
                json!(rem)
            };
        }
        data.devices = Collection::from_values(devs);
        data.subscriptions = Collection::from_values(subs);
        data
    }

    /// Turn `n` devices and `n` subscriptions, spread over the served order, into hostile
    /// items (see `sim::hostile`). Subscriptions are changed after devices linked to them,
    /// so device links keep the original subscription ids.
    pub fn make_hostile(&mut self, n: usize) {
        use super::hostile::{self, Hostility};
        if n == 0 {
            return;
        }
        let mut rng = StdRng::seed_from_u64(0x0051_1E55 ^ n as u64);
        let mut devs: Vec<Value> = self
            .devices
            .entries()
            .iter()
            .map(|e| e.value.clone())
            .collect();
        for (i, at) in hostile::spread(devs.len(), n).into_iter().enumerate() {
            hostile::device(&mut devs[at], Hostility::nth(i), &mut rng);
        }
        self.devices = Collection::from_values(devs);
        let mut subs: Vec<Value> = self
            .subscriptions
            .entries()
            .iter()
            .map(|e| e.value.clone())
            .collect();
        for (i, at) in hostile::spread(subs.len(), n).into_iter().enumerate() {
            hostile::subscription(&mut subs[at], Hostility::nth(i), &mut rng);
        }
        self.subscriptions = Collection::from_values(subs);
    }

    /// Place every device (see [`Placement`]); a share `placed_share` of an MSP-owned
    /// tenant's devices, drawn from `seed`, count as placed there by the MSP. New devices
    /// (POST, `add_devices`) are placed the same way, as not placed by the MSP.
    pub fn set_placement(&mut self, p: Placement, placed_share: f64, seed: u64) {
        self.placement = p;
        if p == Placement::Own {
            return;
        }
        let mut rng = StdRng::seed_from_u64(seed ^ 0x0091_ACED);
        let mut devs: Vec<Value> = self
            .devices
            .entries()
            .iter()
            .map(|e| e.value.clone())
            .collect();
        for d in &mut devs {
            let by_msp = rng.random::<f64>() < placed_share;
            self.place(d, by_msp);
        }
        self.devices = Collection::from_values(devs);
    }

    /// Set `management`, `tenantWorkspaceId` and `inUseWorkspace` of `d` for this
    /// workspace's placement; `by_msp`: an MSP-owned tenant's device the MSP placed there.
    pub fn place(&self, d: &mut Value, by_msp: bool) {
        let (management, tenant, in_use) = match self.placement {
            Placement::Own => return,
            Placement::MspPool => (json!("MSP"), Value::Null, Value::Null),
            Placement::Tenant { msp_owned: true } if by_msp => (
                json!("MSP"),
                json!(uuid::Uuid::parse_str(&self.workspace_id).map_or_else(
                    |_| self.workspace_id.clone(),
                    |u| u.hyphenated().to_string()
                )),
                self.in_use_workspace(),
            ),
            Placement::Tenant { msp_owned: true } => {
                (json!("TENANT"), Value::Null, self.in_use_workspace())
            }
            Placement::Tenant { msp_owned: false } => {
                (Value::Null, Value::Null, self.in_use_workspace())
            }
        };
        d["management"] = management;
        d["tenantWorkspaceId"] = tenant;
        d["inUseWorkspace"] = in_use;
    }

    /// Add other workspaces' devices (an MSP's consolidated view), keeping creation order.
    pub fn absorb_devices(&mut self, extra: Vec<Value>) {
        let mut devs: Vec<Value> = self
            .devices
            .entries()
            .iter()
            .map(|e| e.value.clone())
            .collect();
        for d in &extra {
            if let Some(s) = d["serialNumber"].as_str() {
                self.serials.insert(s.to_ascii_uppercase());
            }
        }
        devs.extend(extra);
        devs.sort_by(|a, b| {
            (a["createdAt"].as_str(), a["id"].as_str())
                .cmp(&(b["createdAt"].as_str(), b["id"].as_str()))
        });
        self.devices = Collection::from_values(devs);
    }

    /// Is this serial number taken (case-insensitive)?
    pub fn serial_taken(&self, serial: &str) -> bool {
        self.serials.contains(&serial.to_ascii_uppercase())
    }

    fn unique_serial(&mut self, rng: &mut StdRng, prefix: &str) -> String {
        loop {
            let s = format!("{prefix}{}", alnum(rng, 10 - prefix.len().min(9)));
            if self.serials.insert(s.clone()) {
                return s;
            }
        }
    }

    fn next_mac(&mut self, oui: &str) -> String {
        // An odd multiplier is a bijection modulo 2^24: MACs stay unique per OUI.
        let n = (self
            .mac_counter
            .wrapping_mul(0x9E37_79B1)
            .wrapping_add(0x0012_3457))
            & 0xFF_FFFF;
        self.mac_counter += 1;
        format!(
            "{oui}:{:02X}:{:02X}:{:02X}",
            (n >> 16) & 0xFF,
            (n >> 8) & 0xFF,
            n & 0xFF
        )
    }

    /// A new random device created at `created_at` (used by `add_devices` and the
    /// insert-between-pages fault); it draws from the generator's own RNG.
    pub fn extra_device(&mut self, created_at: DateTime<Utc>) -> Value {
        let mut rng = std::mem::replace(&mut self.rng, StdRng::seed_from_u64(0));
        let kind = pick_weighted(&mut rng, KINDS, |k| k.weight);
        let mut d = self.random_device(&mut rng, kind, created_at);
        self.rng = rng;
        d["updatedAt"] = json!(ts(created_at));
        self.place(&mut d, false);
        d
    }

    /// A device added through POST: unassigned, no application, no subscription.
    pub fn posted_device(&mut self, n: NewDevice, now: DateTime<Utc>) -> Value {
        let mut rng = std::mem::replace(&mut self.rng, StdRng::seed_from_u64(0));
        let kind = KINDS
            .iter()
            .find(|k| k.category == n.category)
            .unwrap_or(&KINDS[0]);
        let (model, part) = *pick(&mut rng, kind.models);
        let id = uuid(&mut rng);
        self.rng = rng;
        self.serials.insert(n.serial.to_ascii_uppercase());
        let location = n
            .location_id
            .map(|id| json!({"id": id, "resourceUri": format!("/locations/v1/locations/{id}")}));
        let mut d = json!({
            "id": id,
            "type": "devices/device",
            "serialNumber": n.serial,
            "partNumber": n.part_number.unwrap_or_else(|| part.to_string()),
            "macAddress": n.mac.map(|m| m.to_ascii_uppercase()),
            "deviceType": kind.device_type,
            "category": kind.category,
            "model": model,
            "make": "HPE",
            "assignedState": "UNASSIGNED",
            "archived": false,
            "deviceName": null,
            "secondaryName": null,
            "application": null,
            "region": null,
            "tags": n.tags,
            "subscription": null,
            "tenantWorkspaceId": null,
            "dedicatedPlatformWorkspace": null,
            "location": location,
            "warranty": null,
            "contact": null,
            "inUseWorkspace": self.in_use_workspace(),
            "management": null,
            "ownership": "MANAGED",
            "source": "MANAGED",
            "isFlex": false,
            "createdAt": ts(now),
            "updatedAt": ts(now),
        });
        self.place(&mut d, false);
        d
    }

    fn in_use_workspace(&self) -> Value {
        json!({"id": self.workspace_id, "resourceUri": format!("/workspaces/v1/workspaces/{}", self.workspace_id),
            "type": "workspaces/workspace"})
    }

    /// A random device as GLP serves it. The steps draw from `rng` in a fixed order, so a
    /// seed always gives the same device.
    fn random_device(&mut self, rng: &mut StdRng, kind: &Kind, created_at: DateTime<Utc>) -> Value {
        let mut m = Map::new();
        self.insert_identity(&mut m, rng, kind);
        let state = insert_state_and_names(&mut m, rng, kind);
        self.insert_service(&mut m, rng, kind, state);
        insert_site_and_support(&mut m, rng, kind);
        self.insert_ownership(&mut m, rng, kind);
        insert_dates(&mut m, rng, created_at);
        Value::Object(m)
    }

    /// Id, serial and part number, MAC address, type, category, model and make.
    fn insert_identity(&mut self, m: &mut Map<String, Value>, rng: &mut StdRng, kind: &Kind) {
        let prefix = *pick(rng, kind.prefixes);
        let serial = self.unique_serial(rng, prefix);
        let (model, part) = *pick(rng, kind.models);
        let id = uuid(rng);
        m.insert("id".into(), json!(id));
        m.insert("type".into(), json!("devices/device"));
        m.insert("serialNumber".into(), json!(serial));
        m.insert("partNumber".into(), json!(part));
        let mac = match kind.category {
            "NETWORK" => Some(json!(self.next_mac(pick::<&str>(rng, NETWORK_OUIS)))),
            "COMPUTE" if rng.random::<f64>() < 0.8 => {
                Some(json!(self.next_mac(pick::<&str>(rng, COMPUTE_OUIS))))
            }
            _ => None,
        };
        optional(m, rng, "macAddress", mac, 0.6);
        m.insert("deviceType".into(), json!(kind.device_type));
        m.insert("category".into(), json!(kind.category));
        m.insert("model".into(), json!(model));
        m.insert("make".into(), json!("HPE"));
    }

    /// The application and region (for a device assigned to a service), tags, the
    /// subscription list, tenant and dedicated-platform workspace.
    fn insert_service(
        &mut self,
        m: &mut Map<String, Value>,
        rng: &mut StdRng,
        kind: &Kind,
        state: &str,
    ) {
        if state == "ASSIGNED_TO_SERVICE" {
            let (app, region) = self.catalog.pair_for(kind.category, kind.device_type, rng);
            m.insert("application".into(), json!({"id": app, "resourceUri": format!("/service-catalog/v1beta1/service-managers/{app}")}));
            m.insert("region".into(), json!(region));
        } else {
            optional(m, rng, "application", None, 0.8);
            optional(m, rng, "region", None, 0.8);
        }
        m.insert("tags".into(), gen_tags(rng));
        if m["tags"].is_null() && rng.random::<f64>() < 0.3 {
            m.remove("tags");
        }
        let r: f64 = rng.random();
        if r < 0.6 {
            m.insert("subscription".into(), Value::Null);
        } else if r < 0.8 {
            m.insert("subscription".into(), json!([]));
        }
        let tenant = (rng.random::<f64>() < 0.03).then(|| json!(uuid(rng).replace('-', "")));
        optional(m, rng, "tenantWorkspaceId", tenant, 0.8);
        let dedicated =
            (state == "ASSIGNED_TO_DEDICATED_PLATFORM").then(|| json!({"id": uuid(rng)}));
        optional(m, rng, "dedicatedPlatformWorkspace", dedicated, 0.8);
    }

    /// The workspace in use, management, ownership (with Flex billing) and subscription
    /// category.
    fn insert_ownership(&self, m: &mut Map<String, Value>, rng: &mut StdRng, kind: &Kind) {
        m.insert(
            "inUseWorkspace".into(),
            if rng.random::<f64>() < 0.9 {
                self.in_use_workspace()
            } else {
                Value::Null
            },
        );
        let mgmt = (rng.random::<f64>() < 0.05).then(|| json!("TENANT"));
        optional(m, rng, "management", mgmt, 0.7);
        let r: f64 = rng.random();
        let ownership = if r < 0.9 {
            "MANAGED"
        } else if r < 0.95 {
            "FLEX"
        } else {
            "DISCOVERED"
        };
        m.insert("ownership".into(), json!(ownership));
        m.insert(
            "source".into(),
            json!(if ownership == "DISCOVERED" {
                "DISCOVERED"
            } else {
                "MANAGED"
            }),
        );
        m.insert("isFlex".into(), json!(ownership == "FLEX"));
        if ownership == "FLEX" {
            m.insert(
                "billingAccountId".into(),
                json!(format!("BA-{}", alnum(rng, 8))),
            );
            m.insert("billingAccountName".into(), json!("Flex Billing"));
            m.insert("billingTier".into(), json!("STANDARD"));
        } else {
            optional(m, rng, "billingAccountId", None, 0.5);
            optional(m, rng, "billingTier", None, 0.5);
        }
        let sc = (kind.category == "COMPUTE").then(|| json!("ProLiant"));
        optional(m, rng, "subscriptionCategory", sc, 0.5);
    }
}

/// The archived flag and the assignment state (returned), the device and secondary names.
fn insert_state_and_names(
    m: &mut Map<String, Value>,
    rng: &mut StdRng,
    kind: &Kind,
) -> &'static str {
    let archived = rng.random::<f64>() < 0.03;
    let r: f64 = rng.random();
    let state = if archived || (0.62..0.90).contains(&r) {
        "UNASSIGNED"
    } else if r < 0.62 {
        "ASSIGNED_TO_SERVICE"
    } else if r < 0.95 {
        "ASSIGNED_TO_ACTIVATE_CONFIG"
    } else {
        "ASSIGNED_TO_DEDICATED_PLATFORM"
    };
    m.insert("assignedState".into(), json!(state));
    m.insert("archived".into(), json!(archived));
    let name = (rng.random::<f64>() < 0.5).then(|| {
        json!(format!(
            "{}-{}-{:03}",
            kind.device_type.to_ascii_lowercase(),
            pick(rng, &["hq", "lab", "dc1", "zrh", "tyo"]),
            rng.random_range(1..999)
        ))
    });
    optional(m, rng, "deviceName", name, 0.6);
    let secondary = (kind.category == "COMPUTE" && rng.random::<f64>() < 0.5)
        .then(|| json!(format!("srv{:04}.example.net", rng.random_range(1..9999))));
    optional(m, rng, "secondaryName", secondary, 0.7);
    state
}

/// Location, warranty and contact.
fn insert_site_and_support(m: &mut Map<String, Value>, rng: &mut StdRng, kind: &Kind) {
    let location = (rng.random::<f64>() < 0.35).then(|| {
        let s = pick(rng, SITES);
        let lid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, s.0.as_bytes()).to_string();
        let l = json!({"id": lid, "resourceUri": format!("/locations/v1/locations/{lid}"), "locationName": s.0,
            "city": s.1, "state": s.2, "country": s.3,
            "postalCode": s.4, "streetAddress": s.5, "latitude": s.6, "longitude": s.7,
            "locationSource": if rng.random::<bool>() { "GPS" } else { "SDI" }});
        // No state: the key is left out (the spec types it as a string, never null).
        let mut l = l;
        if s.2.is_empty()
            && let Some(o) = l.as_object_mut()
        {
            o.remove("state");
        }
        l
    });
    optional(m, rng, "location", location, 0.85);
    let warranty = (kind.category != "NETWORK" && rng.random::<f64>() < 0.6).then(|| {
        let end = anchor() + CDuration::days(rng.random_range(-200..1500));
        let level = json!({"serviceLevel": "Foundation Care 24x7", "serviceLevelRank": 2,
            "contractLevel": "HPE Support", "contractLevelRank": 1,
            "startDate": ts(end - CDuration::days(3 * 365)), "endDate": ts(end)});
        json!({"country": "USA", "currentSupportLevel": level.clone(), "supportLevels": [level]})
    });
    optional(m, rng, "warranty", warranty, 0.9);
    let contact = (rng.random::<f64>() < 0.05).then(|| {
        json!({"type": "NON-WORKSPACE-USER", "nonWorkspaceUser": {"email": "noc@example.com",
            "firstName": "Ana", "lastName": "Núñez", "phoneNumber": "+1 555 0100"}})
    });
    optional(m, rng, "contact", contact, 0.9);
}

/// Manufacturing date, `createdAt`, and an `updatedAt` between creation and the anchor.
fn insert_dates(m: &mut Map<String, Value>, rng: &mut StdRng, created_at: DateTime<Utc>) {
    let mfd = (rng.random::<f64>() < 0.5)
        .then(|| json!(ts(created_at - CDuration::days(rng.random_range(30..400)))));
    optional(m, rng, "manufacturedDate", mfd, 0.7);
    m.insert("createdAt".into(), json!(ts(created_at)));
    let age = (anchor() - created_at).num_milliseconds().max(1);
    let updated = created_at + CDuration::milliseconds(rng.random_range(0..age));
    m.insert("updatedAt".into(), json!(ts(updated)));
}

fn gen_tags(rng: &mut StdRng) -> Value {
    let r: f64 = rng.random();
    let n = if r < 0.25 {
        return Value::Null;
    } else if r < 0.35 {
        0
    } else if r < 0.85 {
        rng.random_range(1..=3)
    } else if r < 0.96 {
        rng.random_range(5..=15)
    } else {
        50
    };
    let mut m = Map::new();
    for i in 0..n {
        let key = TAG_KEYS
            .get(i)
            .map_or_else(|| format!("label.{i}"), |k| k.to_string());
        let v = if rng.random::<f64>() < 0.03 {
            "long-value ".repeat(23) + "end" // 256 characters
        } else {
            pick(rng, TAG_VALUES).to_string()
        };
        m.insert(key, json!(v));
    }
    Value::Object(m)
}

fn qty(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A device's `subscription[]` entry for a subscription item.
pub(crate) fn sub_ref(s: &Value) -> Value {
    let id = s["id"].as_str().unwrap_or_default();
    json!({"id": id, "resourceUri": format!("/subscriptions/v1beta1/subscriptions/{id}"),
        "key": s["key"], "tier": s["tier"], "startTime": s["startTime"], "endTime": s["endTime"]})
}

fn gen_subscription(rng: &mut StdRng, today: DateTime<Utc>, keys: &mut HashSet<String>) -> Value {
    let kind = pick_weighted(rng, SUB_KINDS, |k| k.weight);
    let (tier, tier_desc, sku, sku_desc) = *pick(rng, kind.tiers);
    let key = loop {
        let k = format!("PA{}", alnum(rng, 12));
        if keys.insert(k.clone()) {
            break k;
        }
    };
    let r: f64 = rng.random();
    let status = if r < 0.72 {
        "STARTED"
    } else if r < 0.84 {
        "ENDED"
    } else if r < 0.88 {
        "SUSPENDED"
    } else if r < 0.92 {
        "CANCELLED"
    } else if r < 0.96 {
        "LOCKED"
    } else {
        "NONE"
    };
    let term = CDuration::days(365 * *pick(rng, &[1i64, 1, 3, 3, 5]));
    let secs = CDuration::seconds(rng.random_range(0..86_400));
    let (start, end) = match status {
        "ENDED" => {
            let end = today - CDuration::days(rng.random_range(1..900)) + secs;
            (end - term, end)
        }
        "NONE" => {
            let start = today + CDuration::days(rng.random_range(1..60)) + secs;
            (start, start + term)
        }
        "STARTED" => {
            let b: f64 = rng.random();
            let days = if b < 0.05 {
                rng.random_range(0..30)
            } else if b < 0.10 {
                rng.random_range(30..60)
            } else if b < 0.15 {
                rng.random_range(60..90)
            } else {
                rng.random_range(90..1800)
            };
            let end = today + CDuration::days(days) + secs + CDuration::minutes(1);
            let start = (end - term).min(today - CDuration::days(rng.random_range(1..30)));
            (start, end)
        }
        _ => {
            let end = today + CDuration::days(rng.random_range(-200..1000)) + secs;
            (end - term, end)
        }
    };
    let eval = rng.random::<f64>() < 0.05;
    let quantity: i64 = match (kind.product, eval) {
        (_, true) => rng.random_range(1..=10),
        ("DEVICE", _) => *pick(rng, &[5i64, 10, 25, 50, 100, 100, 250, 500, 1000]),
        _ => rng.random_range(1..=20),
    };
    let created = (start - CDuration::days(rng.random_range(0..30))).min(Utc::now());
    let updated = created + CDuration::seconds(rng.random_range(0..86_400 * 30));
    let mut m = Map::new();
    m.insert("id".into(), json!(uuid(rng)));
    m.insert("type".into(), json!("subscriptions/subscription"));
    m.insert("key".into(), json!(key));
    m.insert("subscriptionType".into(), json!(kind.sub_type));
    m.insert("subscriptionStatus".into(), json!(status));
    // glp-api.md §4.2: the wire type of quantity is unclear; a few are served as strings.
    let as_string = rng.random::<f64>() < 0.03;
    m.insert(
        "quantity".into(),
        if as_string {
            json!(quantity.to_string())
        } else {
            json!(quantity)
        },
    );
    m.insert("availableQuantity".into(), json!(quantity));
    m.insert(
        "sku".into(),
        json!(if eval {
            format!("{sku}-EVAL")
        } else {
            sku.to_string()
        }),
    );
    m.insert("skuDescription".into(), json!(sku_desc));
    m.insert("startTime".into(), json!(ts(start)));
    m.insert("endTime".into(), json!(ts(end)));
    m.insert("tier".into(), json!(tier));
    m.insert("tierDescription".into(), json!(tier_desc));
    m.insert("productType".into(), json!(kind.product));
    m.insert("isEval".into(), json!(eval));
    let contract = (rng.random::<f64>() < 0.5).then(|| json!(format!("CTR-{}", alnum(rng, 8))));
    // Unlike the device service (whose spec examples send null for absent values), the
    // subscription spec types these as plain strings and shows no null: absent ones are left
    // out (null probability 0 keeps the generator's random sequence as it was).
    optional(&mut m, rng, "contract", contract, 0.0);
    let quote = (rng.random::<f64>() < 0.7).then(|| json!(format!("Q-{}", alnum(rng, 7))));
    optional(&mut m, rng, "quote", quote, 0.0);
    let po = (rng.random::<f64>() < 0.6)
        .then(|| json!(format!("PO-{}", rng.random_range(10000..99999))));
    optional(&mut m, rng, "po", po, 0.0);
    let rpo = (rng.random::<f64>() < 0.2).then(|| json!(format!("RPO-{}", alnum(rng, 6))));
    optional(&mut m, rng, "resellerPo", rpo, 0.0);
    let r: f64 = rng.random();
    let tags = if r < 0.6 {
        Some(json!({}))
    } else if r < 0.8 {
        Some(json!({"team": "netops"}))
    } else if r < 0.85 {
        Some(json!({"budget": "FY27", "Besitzer": "Jürgen"}))
    } else {
        None
    };
    optional(&mut m, rng, "tags", tags, 0.0);
    m.insert("createdAt".into(), json!(ts(created)));
    // Generated history ends an hour before start: otherwise thousands of items look "changed
    // just now" and every incremental sync in the first minutes re-reads them.
    let history_end = Utc::now() - chrono::Duration::hours(1);
    m.insert(
        "updatedAt".into(),
        json!(ts(updated.min(history_end).max(created.min(history_end)))),
    );
    Value::Object(m)
}
