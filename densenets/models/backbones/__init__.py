"""Mobile backbones with named taps. ``build_backbone(name, **options)`` builds one in plain Python."""
