//! Slack incoming webhooks (`LAPSE_SLACK_WEBHOOK`), with Block Kit
//! messages (https://api.slack.com/messaging/webhooks,
//! https://api.slack.com/reference/block-kit/blocks). Every value from a
//! grant or the policy goes into a `plain_text` object, which Slack never
//! reads as markup, so a grant cannot mention `@channel`, add a link or
//! format the message; the `text` fallback holds only lapse's own words.

use serde_json::{Value, json};

use super::webhook::Webhook;
use super::{
    Channel, Delivery, Item, NotifyError, Warnings, chat_forge, chat_items, entering, headline,
};
use crate::model::GrantDuration;

/// Slack allows 50 blocks a message; a header and a closing line leave
/// room for this many items.
const MAX_ITEMS: usize = 40;
/// Slack's limit on a section's text, in characters.
const MAX_TEXT: usize = 3000;

pub fn announce(
    warnings: &Warnings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Delivery, NotifyError> {
    let webhook = Webhook::from_env(env, "slack", "Slack", "LAPSE_SLACK_WEBHOOK")?;
    let (grants, contracts, delivery) = entering(warnings, Channel::Slack);
    if grants.is_empty() && contracts.is_empty() {
        return Ok(delivery);
    }
    let naming = warnings.naming(chat_forge(env));
    let items = chat_items(warnings, &grants, &contracts, &naming);
    webhook.post(&message(
        warnings.within,
        grants.len(),
        contracts.len(),
        &items,
    ))?;
    Ok(delivery)
}

fn message(within: GrantDuration, grants: usize, contracts: usize, items: &[Item]) -> Value {
    let headline = headline(within, grants, contracts);
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": format!("lapse: {headline}"), "emoji": true},
    })];
    blocks.extend(items.iter().take(MAX_ITEMS).map(|item| {
        let siren = if item.loud { ":rotating_light: " } else { "" };
        let text: String = format!("{siren}{}\n{}", item.title, item.detail)
            .chars()
            .take(MAX_TEXT)
            .collect();
        json!({"type": "section", "text": {"type": "plain_text", "text": text, "emoji": true}})
    }));
    if items.len() > MAX_ITEMS {
        blocks.push(json!({
            "type": "context",
            "elements": [{
                "type": "plain_text",
                "text": format!("and {} more: run lapse expiring for the full list", items.len() - MAX_ITEMS),
            }],
        }));
    }
    let loud = items.iter().filter(|item| item.loud).count();
    let fallback = match loud {
        0 => format!("lapse: {headline}"),
        n => format!("lapse: {headline}, {n} of them break-glass"),
    };
    json!({"text": fallback, "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(loud: bool, title: &str) -> Item {
        Item {
            loud,
            title: title.to_owned(),
            detail: "<!channel> *bold* <https://evil|click>".to_owned(),
        }
    }

    #[test]
    fn values_are_plain_text_and_the_fallback_is_lapses_own_words() {
        let message = message("7d".parse().unwrap(), 1, 0, &[item(true, "x ends")]);
        assert_eq!(
            message["text"],
            "lapse: 1 grant ends within 7d, 1 of them break-glass"
        );
        let section = &message["blocks"][1];
        assert_eq!(section["text"]["type"], "plain_text");
        assert!(
            section["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with(":rotating_light: x ends\n<!channel>")
        );
    }

    #[test]
    fn long_lists_stay_within_slacks_block_limit() {
        let items: Vec<Item> = (0..100).map(|i| item(false, &format!("g{i}"))).collect();
        let message = message("7d".parse().unwrap(), 100, 0, &items);
        let blocks = message["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        assert_eq!(
            blocks.last().unwrap()["elements"][0]["text"],
            "and 60 more: run lapse expiring for the full list"
        );
    }
}
