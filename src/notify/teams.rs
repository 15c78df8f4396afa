//! Microsoft Teams webhooks (`LAPSE_TEAMS_WEBHOOK`): a Workflows webhook
//! ("Post to a channel when a webhook request is received"), or a legacy
//! Microsoft 365 Connectors incoming webhook while they last. Both take a
//! message with one Adaptive Card attachment, which is the only format
//! Workflows accepts
//! (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using).
//! Teams reads a TextBlock's text as a subset of Markdown, so every value
//! is escaped.

use serde_json::{Value, json};

use super::webhook::Webhook;
use super::{
    Channel, Delivery, Item, NotifyError, Warnings, chat_forge, chat_items, entering, headline,
};
use crate::model::GrantDuration;

/// Teams refuses webhook messages over 28 KB; this many items stay well
/// below it.
const MAX_ITEMS: usize = 25;

pub fn announce(
    warnings: &Warnings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Delivery, NotifyError> {
    let webhook = Webhook::from_env(env, "teams", "Teams", "LAPSE_TEAMS_WEBHOOK")?;
    let (grants, contracts, delivery) = entering(warnings, Channel::Teams);
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
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": format!("lapse: {}", headline(within, grants, contracts)),
        "weight": "Bolder",
        "size": "Medium",
        "wrap": true,
    })];
    body.extend(items.iter().take(MAX_ITEMS).map(|item| {
        let title = if item.loud {
            format!("🚨 {}", escape(&item.title))
        } else {
            escape(&item.title)
        };
        json!({
            "type": "Container",
            "style": if item.loud { "attention" } else { "default" },
            "items": [
                {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": true},
                {"type": "TextBlock", "text": escape(&item.detail), "isSubtle": true, "spacing": "None", "wrap": true},
            ],
        })
    }));
    if items.len() > MAX_ITEMS {
        body.push(json!({
            "type": "TextBlock",
            "text": format!("and {} more: run lapse expiring for the full list", items.len() - MAX_ITEMS),
            "wrap": true,
        }));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.2",
                "body": body,
            },
        }],
    })
}

/// Backslash before every character Teams' Markdown gives a meaning to
/// (emphasis, links, code, headings), control characters as spaces. Lines
/// start with lapse's words or a grant id, never with a list marker.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\*_[]()~`<>#".contains(c) {
            escaped.push('\\');
        }
        escaped.push(if c.is_control() { ' ' } else { c });
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_is_one_adaptive_card_attachment_with_escaped_values() {
        let items = [Item {
            loud: true,
            title: "x ends".to_owned(),
            detail: "[click](https://evil) **now**".to_owned(),
        }];
        let message = message("7d".parse().unwrap(), 1, 0, &items);
        assert_eq!(message["type"], "message");
        let attachment = &message["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let card = &attachment["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        let container = &card["body"][1];
        assert_eq!(container["style"], "attention");
        assert_eq!(
            container["items"][1]["text"],
            r"\[click\]\(https://evil\) \*\*now\*\*"
        );
    }
}
