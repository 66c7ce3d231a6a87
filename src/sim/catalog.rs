//! The service catalog (glp-api.md §2.7): service managers (= application ids), the regions
//! each is offered in, and where it is provisioned. A device PATCH may only assign an
//! application to a region where it is provisioned.

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// (name, description, regions offered, regions provisioned)
const MANAGERS: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "Aruba Central",
        "Cloud-native network management",
        &[
            "us-west",
            "us-east",
            "eu-central",
            "eu-west",
            "ap-northeast",
            "ap-south",
            "ca-central",
        ],
        &["us-west", "us-east", "eu-central", "ap-northeast"],
    ),
    (
        "Compute Ops Management",
        "Manage HPE servers",
        &["us-west", "eu-central", "ap-northeast"],
        &["us-west", "eu-central"],
    ),
    (
        "Data Services",
        "Storage and data services",
        &["us-west", "eu-central"],
        &["us-west"],
    ),
    (
        "HPE Aruba Networking UXI",
        "User experience insight sensors",
        &["us-west", "eu-central"],
        &["us-west", "eu-central"],
    ),
    ("OpsRamp", "IT operations management", &["us-east"], &[]),
];

const REGION_NAMES: &[(&str, &str)] = &[
    ("us-west", "US West"),
    ("us-east", "US East"),
    ("eu-central", "EU Central"),
    ("eu-west", "EU West"),
    ("ap-northeast", "Asia Pacific Northeast"),
    ("ap-south", "Asia Pacific South"),
    ("ca-central", "Canada Central"),
];

const CREATED: &str = "2024-03-01T00:00:00.000Z";

/// The fixed service catalog.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub service_managers: Vec<Value>,
    pub regions: Vec<Value>,
    pub provisions: Vec<Value>,
    ids: Vec<String>,
}

fn sm_id(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("glp-sim:service-manager:{name}").as_bytes(),
    )
    .to_string()
}

impl Catalog {
    pub fn new() -> Catalog {
        let mut service_managers = Vec::new();
        let mut ids = Vec::new();
        for (name, desc, _, _) in MANAGERS {
            let id = sm_id(name);
            service_managers.push(json!({
                "id": id, "resourceUri": format!("/service-catalog/v1/service-managers/{id}"),
                "name": name, "description": desc, "createdAt": CREATED, "updatedAt": CREATED,
                "generation": 1, "type": "/service-catalog/service-manager",
                "mspSupported": true, "mspOnlySupported": false, "standaloneSupported": true,
                "tenantOnlySupported": false, "honorUnprovisionResponse": true,
                "workspaceOpModesSupported": ["STANDALONE", "MSP"], "workspaceTransferSupported": true,
            }));
            ids.push(id);
        }
        let regions = REGION_NAMES
            .iter()
            .map(|(code, name)| {
                let sms: Vec<Value> = MANAGERS
                    .iter()
                    .zip(&service_managers)
                    .filter(|((_, _, offered, _), _)| offered.contains(code))
                    .map(|(_, sm)| sm.clone())
                    .collect();
                json!({"id": code, "regionName": name, "serviceManagers": sms, "generation": 1,
                    "type": "/service-catalog/per-region-service-manager"})
            })
            .collect();
        let mut provisions = Vec::new();
        for ((name, _, _, provisioned), id) in MANAGERS.iter().zip(&ids) {
            for region in *provisioned {
                let pid = uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_URL,
                    format!("glp-sim:provision:{name}:{region}").as_bytes(),
                )
                .to_string();
                provisions.push(json!({
                    "id": pid, "resourceUri": format!("/service-catalog/v1/service-manager-provisions/{pid}"),
                    "serviceManager": {"id": id, "resourceUri": format!("/service-catalog/v1/service-managers/{id}")},
                    "region": region, "provisionStatus": "PROVISIONED", "createdBy": "admin@example.com",
                    "createdAt": CREATED, "updatedAt": CREATED, "generation": 1,
                    "type": "/service-catalog/service-manager-provision",
                }));
            }
        }
        Catalog {
            service_managers,
            regions,
            provisions,
            ids,
        }
    }

    /// Is `app` provisioned in `region`?
    pub fn is_provisioned(&self, app: &str, region: &str) -> bool {
        self.provisions
            .iter()
            .any(|p| p["serviceManager"]["id"] == app && p["region"] == region)
    }

    /// Is `app` a known service manager?
    pub fn knows(&self, app: &str) -> bool {
        self.ids.iter().any(|i| i == app)
    }

    /// A plausible provisioned (application, region) pair for a device.
    pub fn pair_for(
        &self,
        category: &str,
        device_type: &str,
        rng: &mut StdRng,
    ) -> (String, String) {
        let mi = match (category, device_type) {
            (_, "SENSOR") => 3,
            ("COMPUTE", _) => 1,
            ("STORAGE", _) => 2,
            _ => 0,
        };
        let regions = MANAGERS[mi].3;
        let region = regions[rng.random_range(0..regions.len())];
        (self.ids[mi].clone(), region.to_string())
    }
}
